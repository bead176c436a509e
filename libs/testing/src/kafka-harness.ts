import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { Kafka, logLevel, type IHeaders, type Producer } from 'kafkajs';
import { Client } from 'pg';
import { creditCode, ev, mulberry32, type Envelope } from './builders';

/**
 * Kafka for the integration tests, chosen once in jest's globalSetup:
 *   1. KAFKA_BROKERS when set (CI starts a broker and sets it);
 *   2. else a testcontainers Kafka where Docker runs;
 *   3. else the local broker script (infra/kafka/local-kafka.sh: Apache Kafka jars from Maven,
 *      run with `java`) where `java` and `mvn` exist — stopped at the end only if we started it;
 *   4. else none: the Kafka suites report themselves skipped, loudly, with the reason
 *      (and fail instead under CI=true).
 * The outcome travels to the test workers as TEST_KAFKA_BROKERS or TEST_KAFKA_UNAVAILABLE.
 */
export interface StartedKafka {
  brokers: string;
  kind: string;
  stop?: () => Promise<void>;
}

const run = (file: string, args: string[], timeoutMs: number) =>
  new Promise<{ code: number; out: string }>((resolve) => {
    execFile(
      file,
      args,
      { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, out: `${stdout}${stderr}` });
      },
    );
  });

function commandExists(cmd: string, args: string[] = ['-version']): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore', timeout: 15_000 });
    return true;
  } catch {
    return false;
  }
}

/** Whether the selected test paths can include a Kafka suite (tests/kafka/…). */
export function kafkaSuitesSelected(rootDir: string, patterns: readonly string[]): boolean {
  if (patterns.length === 0) return true;
  const probe = path.join(rootDir, 'tests', 'kafka', 'kafka.int-spec.ts');
  return patterns.some((p) => {
    try {
      if (new RegExp(p, 'i').test(probe)) return true;
    } catch {
      return true;
    }
    const abs = path.resolve(rootDir, p);
    return probe.startsWith(abs) || abs.startsWith(path.join(rootDir, 'tests', 'kafka'));
  });
}

/**
 * For globalSetup. Finds or starts a broker; sets process.env.TEST_KAFKA_BROKERS, or
 * TEST_KAFKA_UNAVAILABLE with the reason. Returns what to stop at the end, if anything.
 */
export async function startTestKafka(rootDir: string): Promise<StartedKafka | null> {
  const found = await findOrStart(rootDir);
  if ('reason' in found) {
    process.env.TEST_KAFKA_UNAVAILABLE = found.reason;
    delete process.env.TEST_KAFKA_BROKERS;
    console.warn(`\n[test] Kafka: none (${found.reason})`);
    return null;
  }
  process.env.TEST_KAFKA_BROKERS = found.brokers;
  delete process.env.TEST_KAFKA_UNAVAILABLE;
  console.log(`[test] Kafka: ${found.kind} at ${found.brokers}`);
  return found;
}

async function findOrStart(rootDir: string): Promise<StartedKafka | { reason: string }> {
  if (process.env.KAFKA_BROKERS)
    return { brokers: process.env.KAFKA_BROKERS, kind: 'KAFKA_BROKERS' };
  if (commandExists('docker', ['info'])) {
    const { KafkaContainer } = await import('@testcontainers/kafka');
    const c = await new KafkaContainer('confluentinc/cp-kafka:7.9.0').withKraft().start();
    return {
      brokers: `${c.getHost()}:${c.getMappedPort(9093)}`,
      kind: 'testcontainers',
      stop: async () => void (await c.stop()),
    };
  }
  const script = path.join(rootDir, 'infra', 'kafka', 'local-kafka.sh');
  const missing = ['java', 'mvn'].filter(
    (c) => !commandExists(c, c === 'java' ? ['-version'] : ['-v']),
  );
  if (missing.length > 0) {
    return {
      reason: `no KAFKA_BROKERS, no Docker, and ${missing.join(' and ')} not on PATH for infra/kafka/local-kafka.sh`,
    };
  }
  const brokers = `127.0.0.1:${process.env.KAFKA_PORT || '9092'}`;
  const status = await run('bash', [script, 'status'], 30_000);
  if (status.code === 0) return { brokers, kind: 'local broker (already running)' };
  const started = await run('bash', [script, 'start'], 240_000);
  if (started.code !== 0) {
    const tail = started.out.trim().split('\n').slice(-15).join('\n');
    return { reason: `infra/kafka/local-kafka.sh start failed (exit ${started.code}):\n${tail}` };
  }
  return {
    brokers,
    kind: 'local broker (started for this run)',
    stop: async () => {
      const r = await run('bash', [script, 'stop'], 60_000);
      if (r.code !== 0) console.warn(`[test] local Kafka stop failed: ${r.out}`);
    },
  };
}

/** For test files: the broker list, or why there is none. */
export function testKafka(): { brokers: string[] } | { reason: string } {
  const list = process.env.TEST_KAFKA_BROKERS || process.env.KAFKA_BROKERS;
  if (list)
    return {
      brokers: list
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    };
  return {
    reason:
      process.env.TEST_KAFKA_UNAVAILABLE ??
      'TEST_KAFKA_BROKERS is not set (run through jest --selectProjects integration, whose globalSetup finds a broker)',
  };
}

/**
 * `describe` for suites that need a real broker. Without one the suite is skipped with the
 * reason in the test name and a console warning; under CI=true it fails instead.
 */
export function describeWithKafka(name: string, fn: (brokers: string[]) => void): void {
  const k = testKafka();
  if ('brokers' in k) {
    describe(name, () => fn(k.brokers));
    return;
  }
  describe(name, () => {
    if (process.env.CI === 'true') {
      it(`needs a Kafka broker, and CI=true: ${k.reason}`, () => {
        throw new Error(`Kafka suite "${name}" cannot run: ${k.reason}`);
      });
      return;
    }
    console.warn(`\n!!! Kafka suite "${name}" SKIPPED: ${k.reason}\n`);
    it.skip(`SKIPPED, no Kafka broker: ${k.reason}`, () => undefined);
  });
}

/** A quiet kafkajs client for tests. */
export function testKafkaClient(brokers: string[], clientId = 'tests'): Kafka {
  return new Kafka({ clientId, brokers, logLevel: logLevel.NOTHING, retry: { retries: 5 } });
}

export interface TestRecord {
  key: string | null;
  value: string | Buffer | null;
}

/** Sends records in order (acks = all), a few thousand per request. */
export async function produce(
  producer: Producer,
  topic: string,
  records: TestRecord[],
  chunk = 2000,
): Promise<void> {
  for (let i = 0; i < records.length; i += chunk) {
    await producer.send({ topic, acks: -1, messages: records.slice(i, i + chunk) });
  }
}

/** Creates topics (ignores existing ones). */
export async function createTopics(
  kafka: Kafka,
  topics: Array<{ topic: string; partitions: number }>,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: topics.map((t) => ({ topic: t.topic, numPartitions: t.partitions })),
    });
  } finally {
    await admin.disconnect();
  }
}

/** Deletes test topics (best effort). */
export async function deleteTopics(kafka: Kafka, topics: string[]): Promise<void> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    const existing = new Set(await admin.listTopics());
    const doomed = topics.filter((t) => existing.has(t));
    if (doomed.length > 0) await admin.deleteTopics({ topics: doomed, timeout: 10_000 });
  } catch {
    // cleanup only
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

export interface ReadRecord {
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

/** Per-partition end offsets of a topic (sum = number of records ever written). */
export async function endOffsets(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offs = await admin.fetchTopicOffsets(topic);
    return offs.reduce((n, o) => n + Number(o.high) - Number(o.low), 0);
  } finally {
    await admin.disconnect();
  }
}

/** Reads a whole topic from the beginning (throwaway group) until `count` records or timeout. */
export async function readTopic(
  kafka: Kafka,
  topic: string,
  count: number,
  timeoutMs = 30_000,
): Promise<ReadRecord[]> {
  const out: ReadRecord[] = [];
  const consumer = kafka.consumer({
    groupId: `reader-${topic}-${Date.now()}-${Math.random().toString(36).slice(2)}`,
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(`read ${out.length} of ${count} records from ${topic} in ${timeoutMs} ms`),
          ),
        timeoutMs,
      );
      if (count === 0) {
        clearTimeout(timer);
        resolve();
        return;
      }
      consumer
        .run({
          eachMessage: async ({ partition, message }) => {
            out.push({
              partition,
              offset: message.offset,
              key: message.key?.toString('utf8') ?? null,
              value: message.value,
              headers: headerText(message.headers),
            });
            if (out.length >= count) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return out;
}

function headerText(h: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h ?? {})) {
    const first = Array.isArray(v) ? v[0] : v;
    if (first !== undefined)
      out[k] = Buffer.isBuffer(first) ? first.toString('utf8') : String(first);
  }
  return out;
}

/** Polls `probe` until it returns true; throws with `describe()` after the timeout. */
export async function waitUntil(
  probe: () => Promise<boolean> | boolean,
  timeoutMs: number,
  describeState: () => Promise<string> | string = () => '',
  intervalMs = 200,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms ${await describeState()}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Records of `topic` not yet committed by `groupId` (all of them when it committed nothing). */
export async function groupLag(kafka: Kafka, groupId: string, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [ends, committed] = await Promise.all([
      admin.fetchTopicOffsets(topic),
      admin.fetchOffsets({ groupId, topics: [topic] }),
    ]);
    const done = new Map(
      (committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)] as const),
    );
    return ends.reduce((n, e) => {
      const c = done.get(e.partition) ?? -1;
      return n + Number(e.high) - (c < 0 ? Number(e.low) : c);
    }, 0);
  } finally {
    await admin.disconnect();
  }
}

// ---------------------------------------------------------------------------------------
// Topics, groups and workloads of the Kafka suites

/** A unique suffix for topics and groups, so that runs and files never share them. */
export const uniqueName = (prefix: string) =>
  `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;

/** Environment of one service instance consuming `topic` in `groupId`. */
export function kafkaEnv(
  brokers: string[],
  names: { topic: string; dlq: string; group: string },
): Record<string, string> {
  return {
    KAFKA_BROKERS: brokers.join(','),
    KAFKA_TOPIC: names.topic,
    KAFKA_DLQ_TOPIC: names.dlq,
    KAFKA_GROUP_ID: names.group,
    KAFKA_PARTITIONS: '6',
    ROLE_PROJECTOR: 'false',
    LOG_LEVEL: 'error',
    JWT_SECRET: 'kafka-tests-secret-0123456789-abcdefghijklmnop',
    RATE_LIMIT_INGEST_PER_MIN: '1000000',
    RATE_LIMIT_QUERY_PER_MIN: '1000000',
  };
}

/**
 * A stream of Kafka records: valid envelopes of many contracts (six facts each), exact
 * re-sends of some of them (duplicates), and invalid records of three kinds: not JSON,
 * JSON but not a valid envelope, and valid envelopes the contract's history refuses.
 */
export interface Workload {
  records: TestRecord[];
  /** eventIds that must end up stored, once each */
  validIds: Set<string>;
  duplicates: number;
  /** invalid record value (or `key:` + key for a tombstone) → expected error code */
  invalid: Map<string, string>;
}

export function workload(opts: {
  total: number;
  duplicateRate: number;
  invalidRate: number;
  tag: string;
  seed?: number;
}): Workload {
  const rnd = mulberry32(opts.seed ?? 42); // a reproducible stream
  const nInvalid = Math.round(opts.total * opts.invalidRate);
  const nDup = Math.round(opts.total * opts.duplicateRate);
  const nValid = opts.total - nInvalid - nDup;

  const valid: Envelope[] = [];
  for (let c = 0; valid.length < nValid; c++) {
    const id = `CQ-FL-${opts.tag}-${String(c).padStart(6, '0')}`;
    const facts = [
      ev.award(id, '2021-09-13', {
        supplierCode: creditCode(c % 5000),
        size: c % 2 ? 'small' : 'large',
      }),
      ev.signed(id, '2021-09-28', '100000.00', '0.30'),
      ev.announced(id, '2021-09-29'),
      ev.filed(id, '2021-09-30'),
      ev.invoice(id, '2021-10-08', `INV-${c}`, '30000.00', 'prepayment'),
      ev.payment(id, '2021-10-11', `PAY-${c}`, '30000.00', 'prepayment', `INV-${c}`),
    ];
    valid.push(...facts.slice(0, nValid - valid.length));
  }
  const rec = (e: Envelope | Record<string, unknown>, key: string): TestRecord => ({
    key,
    value: JSON.stringify(e),
  });
  const records: TestRecord[] = valid.map((e) => rec(e, e.contractId));

  // Duplicates: exact re-sends, later in the stream (same key, so same partition, after the original).
  for (let i = 0; i < nDup; i++) {
    const at = Math.floor(rnd() * records.length);
    const original = valid[Math.floor(rnd() * valid.length)];
    const origAt = records.findIndex((r) => r.value === JSON.stringify(original));
    records.splice(Math.max(at, origAt + 1), 0, rec(original, original.contractId));
  }

  const invalid = new Map<string, string>();
  const signed = valid.filter((e) => e.type === 'ContractSigned');
  for (let i = 0; i < nInvalid; i++) {
    const contractId = signed[Math.floor(rnd() * signed.length)].contractId;
    const marker = `${opts.tag}-bad-${i}`;
    let r: TestRecord;
    switch (i % 5) {
      case 0: // not JSON at all
        r = { key: contractId, value: `{"eventId": "${marker}", this is not JSON` };
        invalid.set(r.value as string, 'EVENT.INVALID_JSON');
        break;
      case 1: // invalid payload: the credit code's check digit is wrong
        r = rec(
          {
            ...ev.award(contractId, '2021-09-13', { supplierCode: '91500102MA5U7QXX2C' }),
            correlationId: marker,
          },
          contractId,
        );
        invalid.set(r.value as string, 'EVENT.INVALID_PAYLOAD');
        break;
      case 2: // unknown type
        r = rec(
          {
            ...ev.filed(contractId, '2021-09-30'),
            type: 'ContractShredded',
            correlationId: marker,
          },
          contractId,
        );
        invalid.set(r.value as string, 'EVENT.UNKNOWN_TYPE');
        break;
      case 3: // a second signing with another eventId: refused by the contract's history
        r = rec({ ...ev.signed(contractId, '2021-10-20'), correlationId: marker }, contractId);
        invalid.set(r.value as string, 'CONTRACT.ALREADY_SIGNED');
        break;
      default:
        if (i % 10 === 4) {
          // a tombstone (no value)
          r = { key: `${contractId}~${marker}`, value: null };
          invalid.set(`key:${r.key}`, 'EVENT.INVALID_JSON');
        } else {
          r = rec({ eventId: marker, note: 'not an envelope' }, contractId);
          invalid.set(r.value as string, 'EVENT.INVALID_PAYLOAD');
        }
    }
    // after the contract's own records, so a conflicting signing comes after the first one
    const last = records.map((x) => x.key).lastIndexOf(contractId);
    const at = last + 1 + Math.floor(rnd() * (records.length - last));
    records.splice(at, 0, r);
  }
  return { records, validIds: new Set(valid.map((e) => e.eventId)), duplicates: nDup, invalid };
}

/** What the database holds, for the assertions. */
export async function storedFacts(databaseUrl: string): Promise<{
  events: number;
  distinctEvents: number;
  ids: Set<string>;
  rejected: Array<{
    code: string;
    partition: number;
    offset: string;
    payload: string;
    contractId: string | null;
  }>;
}> {
  const c = new Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    const counts = await c.query<{ n: number; d: number }>(
      'SELECT count(*)::int AS n, count(DISTINCT event_id)::int AS d FROM events',
    );
    const ids = await c.query<{ id: string }>('SELECT event_id::text AS id FROM events');
    const rej = await c.query<{
      code: string;
      source: { partition: number; offset: string };
      payload: string;
      contract_id: string | null;
    }>(
      "SELECT code, source, payload, contract_id FROM rejected_events WHERE source->>'kind' = 'kafka'",
    );
    return {
      events: counts.rows[0].n,
      distinctEvents: counts.rows[0].d,
      ids: new Set(ids.rows.map((r) => r.id)),
      rejected: rej.rows.map((r) => ({
        code: r.code,
        partition: r.source.partition,
        offset: r.source.offset,
        payload: r.payload,
        contractId: r.contract_id,
      })),
    };
  } finally {
    await c.end();
  }
}

export async function countEvents(databaseUrl: string): Promise<number> {
  const c = new Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    return (await c.query<{ n: number }>('SELECT count(*)::int AS n FROM events')).rows[0].n;
  } finally {
    await c.end();
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
