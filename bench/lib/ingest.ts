import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { from as copyFrom } from 'pg-copy-streams';
import type { PoolClient } from 'pg';
import { DataSource } from 'typeorm';
import { PgEventStore, eventCopyLine, type EventSource } from '@app/event-store';
import { RecordEventsCommand } from '../../apps/monitor/src/ingestion/record-events/record-events.command';
import { generateEvents, inChunks, type Envelope, type GeneratorInput } from '../generator';
import { NaiveEvent } from '../naive-event.entity';
import { CpuMeter, type CpuPerEvent } from './cpu';
import { pool, sql } from './pg';
import type { DecisionStateCache } from '../../apps/monitor/src/ingestion/record-events/decision-state-cache';
import { feedChunks } from './feed';
import { benchHandler } from './handler';

/** A throughput measurement: only the timed sections count (generation is excluded). */
export interface Throughput {
  events: number;
  seconds: number;
  eventsPerSec: number;
  accepted?: number;
  duplicate?: number;
  rejected?: number;
  /** rejection codes seen, with counts */
  codes?: Record<string, number>;
  /** HTTP requests that failed as a whole (then retried as is), by status and code */
  failedRequests?: Record<string, number>;
  note?: string;
  /** raw COPY: cumulative [events, seconds] after each chunk (for like-for-like ratios) */
  progress?: Array<[number, number]>;
  /** CPU time per event over the timed sections, each side (cpu.ts) */
  cpu?: CpuPerEvent;
  /** the command path: where its batches' decision states came from (handler.ts) */
  decisionStates?: DecisionStateCache['taken'];
}

/** Events are generated in chunks of this size outside the timed sections. */
export const CHUNK = 50_000;

const now = () => performance.now();

/**
 * The events as a door hands them to RecordEventsHandler: parsed from JSON (HTTP's body, a
 * Kafka record's value), done before the clock starts. The generator's own objects hold
 * strings built by concatenation (V8 cons strings), which the handler's first look at each
 * (the lanes' contract hash) had to flatten: ~2.5 µs an event, about a tenth of the command
 * path's time, spent on an input shape no door produces.
 */
export function asReceived(chunk: Envelope[], source: EventSource) {
  return (JSON.parse(JSON.stringify(chunk)) as unknown[]).map((raw) => ({ raw, source }));
}

function result(events: number, ms: number, extra: Partial<Throughput> = {}): Throughput {
  return { events, seconds: ms / 1000, eventsPerSec: events / (ms / 1000), ...extra };
}

function tally(t: Partial<Throughput>, status: string, code?: string): void {
  const k = status as 'accepted' | 'duplicate' | 'rejected';
  t[k] = (t[k] ?? 0) + 1;
  if (code) {
    t.codes ??= {};
    t.codes[code] = (t.codes[code] ?? 0) + 1;
  }
}

/** Text lines joined into strings of about 1 MB, the parts of a COPY … FROM STDIN stream. */
function inParts(lines: Iterable<string>): string[] {
  const parts: string[] = [];
  let buf = '';
  for (const line of lines) {
    buf += line;
    if (buf.length > 1 << 20) {
      parts.push(buf);
      buf = '';
    }
  }
  if (buf) parts.push(buf);
  return parts;
}

/**
 * COPY text of `events` rows as the service stores these envelopes (the store's own
 * `eventCopyLine`, with an import source); `versions` holds each stream's last version and is
 * advanced.
 */
export function eventCopyParts(chunk: Envelope[], versions: Map<string, number>): string[] {
  return inParts(
    (function* () {
      for (const e of chunk) {
        const v = (versions.get(e.contractId) ?? 0) + 1;
        versions.set(e.contractId, v);
        yield eventCopyLine(e.contractId, v, {
          eventId: e.eventId,
          streamId: e.contractId,
          type: e.type,
          schemaVersion: e.schemaVersion,
          occurredAt: e.occurredAt,
          data: e.data,
          metadata: {
            source: { kind: 'import' },
            ...(e.correlationId ? { correlationId: e.correlationId } : {}),
          },
        });
      }
    })(),
  );
}

/** Streams the parts into `events` with COPY … FROM STDIN on this client. */
export async function copyEvents(client: PoolClient, parts: string[]): Promise<void> {
  await pipeline(
    Readable.from(parts),
    client.query(
      copyFrom(
        'COPY events (stream_id, stream_version, event_id, type, schema_version, occurred_at, data, metadata) FROM STDIN',
      ),
    ),
  );
}

/**
 * The write limit: COPY … FROM STDIN of the same rows (stream versions, data, metadata as the
 * service stores them) into the `events` table of a freshly migrated database (same indexes
 * and constraints). One COPY per chunk, each in its own transaction. The result is a complete
 * store the service can keep appending to.
 */
export async function rawCopy(url: string, gen: GeneratorInput): Promise<Throughput> {
  const p = pool(url, 1);
  const client = await p.connect();
  const versions = new Map<string, number>();
  let events = 0;
  let ms = 0;
  const progress: Array<[number, number]> = [];
  const cpu = new CpuMeter();
  try {
    for await (const chunk of feedChunks(gen, CHUNK)) {
      const parts = eventCopyParts(chunk, versions);
      cpu.start();
      const t0 = now();
      await client.query('BEGIN');
      await copyEvents(client, parts);
      await client.query('COMMIT');
      ms += now() - t0;
      cpu.stop();
      events += chunk.length;
      progress.push([events, ms / 1000]);
    }
  } finally {
    client.release();
    await p.end();
  }
  return result(events, ms, { progress, cpu: cpu.perEvent(events) });
}

/**
 * The command path: RecordEventsHandler(store, clock) called directly (no Nest, no HTTP),
 * batches of `batchSize`, one at a time, on a freshly migrated database. With `maxSeconds`,
 * no batch is started once that much time has been measured: the batch running when the
 * time box ends is finished, and the result covers the events handled until then.
 */
export async function commandPath(
  url: string,
  gen: GeneratorInput,
  opts: { batchSize?: number; poolSize?: number; maxSeconds?: number } = {},
): Promise<Throughput> {
  const batchSize = opts.batchSize ?? 1000;
  const maxMs = (opts.maxSeconds ?? Infinity) * 1000;
  let cut = false;
  const p = pool(url, opts.poolSize ?? 10);
  const store = new PgEventStore(p);
  const { handler, cache } = benchHandler(store);
  const source: EventSource = { kind: 'import' };
  const t: Partial<Throughput> = {};
  const cpu = new CpuMeter();
  let events = 0;
  let ms = 0;
  try {
    for await (const chunk of feedChunks(gen, CHUNK)) {
      const items = asReceived(chunk, source);
      cpu.start();
      const t0 = now();
      for (let i = 0; i < items.length; i += batchSize) {
        if (ms + (now() - t0) >= maxMs) {
          cut = true;
          break;
        }
        const batch = items.slice(i, i + batchSize);
        const outcomes = await handler.execute(new RecordEventsCommand(batch));
        for (const o of outcomes) tally(t, o.status, o.code);
        events += batch.length;
      }
      ms += now() - t0;
      cpu.stop();
      if (cut) {
        t.note = `time-boxed at ${opts.maxSeconds} s: the first ${events} events of the feed`;
        break;
      }
    }
  } finally {
    await p.end();
  }
  return result(events, ms, {
    ...t,
    cpu: cpu.perEvent(events),
    decisionStates: { ...cache.taken },
  });
}

/**
 * POST /v1/events with arrays of `batchSize`, `concurrency` requests in flight, over
 * keep-alive connections. Request bodies are serialised before the clock starts.
 */
export async function httpPath(
  baseUrl: string,
  token: string,
  gen: GeneratorInput,
  opts: { batchSize?: number; concurrency?: number; maxSeconds?: number; servicePid?: number } = {},
): Promise<Throughput> {
  const batchSize = opts.batchSize ?? 500;
  const concurrency = opts.concurrency ?? 4;
  const maxMs = (opts.maxSeconds ?? Infinity) * 1000;
  let cut = false;
  const t: Partial<Throughput> = {};
  const cpu = opts.servicePid === undefined ? null : new CpuMeter(opts.servicePid, true);
  let events = 0;
  let ms = 0;
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
  for await (const chunk of feedChunks(gen, CHUNK)) {
    const bodies: Array<{ body: string; n: number }> = [];
    for (let i = 0; i < chunk.length; i += batchSize) {
      const batch = chunk.slice(i, i + batchSize);
      bodies.push({ body: JSON.stringify(batch), n: batch.length });
    }
    let next = 0;
    cpu?.start();
    const t0 = now();
    const worker = async () => {
      while (next < bodies.length) {
        if (ms + (now() - t0) > maxMs) {
          cut = true;
          return;
        }
        const { body, n } = bodies[next++];
        let text = '';
        for (let attempt = 1; ; attempt++) {
          let status: number;
          try {
            const r = await fetch(`${baseUrl}/v1/events`, { method: 'POST', headers, body });
            text = await r.text();
            status = r.status;
          } catch (err) {
            // The connection failed under the request: at large, generating the next chunk
            // in this thread (before session 13's worker, feed.ts) blocked it for longer than
            // the server's keep-alive timeout (5 s), so the pool's sockets were closed by the
            // server while this side could not yet see it, and the next request went out on
            // one of them ("other side closed"). Encoding a chunk's bodies still blocks it.
            const cause = (err as { cause?: { code?: string } }).cause;
            text = `network ${cause?.code ?? (err as Error).message}`;
            status = 0;
          }
          if (status === 200) break;
          // a client retries a failed batch as is (eventIds are idempotency keys); counted
          const key =
            status === 0
              ? text
              : `HTTP ${status} ${(/"code":"([^"]+)"/.exec(text) ?? [])[1] ?? ''}`.trim();
          t.failedRequests ??= {};
          t.failedRequests[key] = (t.failedRequests[key] ?? 0) + 1;
          if (attempt >= 30)
            throw new Error(
              `POST /v1/events failed ${attempt} times, last: ${status || 'no answer'} ${text.slice(0, 500)}`,
            );
          await new Promise((res) => setTimeout(res, Math.random() * 20 * attempt));
        }
        const { results } = JSON.parse(text) as {
          results: Array<{ status: string; code?: string }>;
        };
        for (const x of results) tally(t, x.status, x.code);
        events += n;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    ms += now() - t0;
    cpu?.stop();
    if (cut) {
      t.note = `time-boxed at ${opts.maxSeconds} s: the first ${events} events of the feed`;
      break;
    }
  }
  return result(events, ms, { ...t, cpu: cpu?.perEvent(events) });
}

/**
 * The naive baseline: one TypeORM `save()` per event (TypeORM wraps each in its own
 * transaction), on a scratch table shaped like `events`. Runs for at most `maxSeconds` or
 * `maxEvents`, whichever comes first: the rate is what matters.
 */
export async function naivePath(
  url: string,
  gen: GeneratorInput,
  opts: { maxSeconds?: number; maxEvents?: number } = {},
): Promise<Throughput> {
  const maxMs = (opts.maxSeconds ?? 30) * 1000;
  const maxEvents = opts.maxEvents ?? Infinity;
  const ds = new DataSource({
    type: 'postgres',
    url,
    entities: [NaiveEvent],
    synchronize: true,
    logging: ['error'],
  });
  await ds.initialize();
  const repo = ds.getRepository(NaiveEvent);
  const versions = new Map<string, number>();
  let events = 0;
  let ms = 0;
  try {
    outer: for (const chunk of inChunks(generateEvents(gen), 10_000)) {
      const rows = chunk.map((e: Envelope) => {
        const v = (versions.get(e.contractId) ?? 0) + 1;
        versions.set(e.contractId, v);
        return repo.create({
          streamId: e.contractId,
          streamVersion: v,
          eventId: e.eventId,
          type: e.type,
          schemaVersion: e.schemaVersion,
          occurredAt: new Date(e.occurredAt),
          data: e.data,
          metadata: { source: { kind: 'import' }, occurredAt: e.occurredAt },
        });
      });
      for (const row of rows) {
        const t0 = now();
        await repo.save(row);
        ms += now() - t0;
        events++;
        if (ms >= maxMs || events >= maxEvents) break outer;
      }
    }
  } finally {
    await ds.destroy();
  }
  return result(events, ms, { note: `sample: the first ${events} events (time-boxed)` });
}

/** Produces the feed to a topic, keyed by contractId (the partitioning the consumer expects). */
export async function produceAll(
  brokers: string[],
  topic: string,
  partitions: number,
  gen: GeneratorInput,
): Promise<{ events: number; seconds: number }> {
  const kafka = new Kafka({ clientId: 'bench-producer', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = await admin.listTopics();
    if (!topics.includes(topic))
      await admin.createTopics({
        topics: [{ topic, numPartitions: partitions }],
        waitForLeaders: true,
      });
  } finally {
    await admin.disconnect();
  }
  const producer: Producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  let events = 0;
  const t0 = now();
  try {
    for (const chunk of inChunks(generateEvents(gen), 5_000)) {
      await producer.send({
        topic,
        acks: -1,
        messages: chunk.map((e) => ({ key: e.contractId, value: JSON.stringify(e) })),
      });
      events += chunk.length;
    }
  } finally {
    await producer.disconnect();
  }
  return { events, seconds: (now() - t0) / 1000 };
}

/**
 * Waits until `expected` events are stored, polling `events`. The rate is measured from the
 * first poll that sees events (the consumer running) to the last one.
 */
export async function waitForStored(
  url: string,
  expected: number,
  opts: { timeoutMs: number; pollMs?: number; log?: (m: string) => void; servicePid?: number },
): Promise<Throughput> {
  const pollMs = opts.pollMs ?? 200;
  const cpu = opts.servicePid === undefined ? null : new CpuMeter(opts.servicePid);
  const start = now();
  let first: { at: number; n: number } | null = null;
  let lastLog = start;
  for (;;) {
    const [{ head }] = await sql<{ head: string | null }>(
      url,
      'SELECT max(global_position)::text AS head FROM events',
    );
    let n = Number(head ?? 0);
    if (n >= expected)
      n = Number((await sql<{ n: string }>(url, 'SELECT count(*)::text AS n FROM events'))[0].n);
    const at = now();
    if (n > 0 && first === null) {
      first = { at, n };
      cpu?.start();
    }
    if (n >= expected && first) {
      cpu?.stop();
      return result(n - first.n, at - first.at, {
        note: `from the first stored event (${first.n} already stored) to the last`,
        cpu: cpu?.perEvent(n - first.n),
      });
    }
    if (at - start > opts.timeoutMs)
      throw new Error(`only ${n} of ${expected} events stored after ${opts.timeoutMs / 1000} s`);
    if (opts.log && at - lastLog > 10_000) {
      opts.log(`  kafka: ${n} / ${expected} stored`);
      lastLog = at;
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
