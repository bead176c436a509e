import { execFile, execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { Kafka, logLevel, type IHeaders, type Producer } from 'kafkajs';

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
