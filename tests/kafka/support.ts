import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { Client } from 'pg';
import { createApp } from '../../apps/monitor/src/bootstrap';
import { KafkaMetrics, type KafkaMetricsSnapshot } from '../../apps/monitor/src/kafka';
import { loadConfig } from '@app/platform';
import { creditCode, ev, mulberry32, type Envelope, type TestRecord } from '@app/testing';

const ROOT = path.resolve(__dirname, '../..');

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

export interface InProcessApp {
  app: INestApplication;
  url: string;
  metrics(): KafkaMetricsSnapshot;
  close(): Promise<void>;
}

/**
 * The real application in this process on a given database (startTestApp always makes a
 * fresh database; these tests need two instances on one, or a database behind a proxy).
 */
export async function startInProcessApp(
  databaseUrl: string,
  env: Record<string, string>,
): Promise<InProcessApp> {
  const config = loadConfig({ ...env, DATA_DIR: tmpDataDir() });
  const app = await createApp({ config, databaseUrl });
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1').replace('localhost', '127.0.0.1');
  const metrics = app.get(KafkaMetrics);
  return { app, url, metrics: () => metrics.snapshot(), close: () => app.close() };
}

function tmpDataDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'monitor-kafka-test-'));
}

export interface ChildService {
  proc: ChildProcess;
  /** resolves with the HTTP base URL once the service listens */
  ready: Promise<string>;
  exited: Promise<number | null>;
  output(): string;
}

/** The service as a real process (`node -r @swc-node/register apps/monitor/src/main.ts`). */
export function spawnService(databaseUrl: string, env: Record<string, string>): ChildService {
  const dataDir = tmpDataDir();
  const proc = spawn(process.execPath, ['-r', '@swc-node/register', 'apps/monitor/src/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'test',
      ...env,
      LOG_LEVEL: 'log',
      DATABASE_URL: databaseUrl,
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let onUrl: (url: string) => void = () => undefined;
  const ready = new Promise<string>((resolve, reject) => {
    onUrl = resolve;
    proc.once('exit', (code) =>
      reject(new Error(`service exited (${code}) before listening:\n${out.slice(-3000)}`)),
    );
  });
  ready.catch(() => undefined);
  const collect = (b: Buffer) => {
    out += b.toString('utf8');
    if (out.length > 400_000) out = out.slice(-200_000);
    const m = /listening on (http:\/\/[^\s]+?)\s/.exec(out);
    if (m) onUrl(m[1].replace('[::1]', '127.0.0.1').replace('localhost', '127.0.0.1'));
  };
  proc.stdout.on('data', collect);
  proc.stderr.on('data', collect);
  const exited = new Promise<number | null>((resolve) =>
    proc.once('exit', (code) => {
      rmSync(dataDir, { recursive: true, force: true });
      resolve(code);
    }),
  );
  return { proc, ready, exited, output: () => out };
}

/** A TCP proxy in front of PostgreSQL that can be switched off (live sockets destroyed). */
export class DbProxy {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  constructor(private readonly targetPort: number) {}

  async start(port = 0): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.targetPort, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream);
      upstream.pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as net.AddressInfo).port;
  }

  /** PostgreSQL becomes unreachable: new connections refused, open ones cut. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Reachable again, on the same port. */
  restart(): Promise<void> {
    return this.start(this.port);
  }

  urlFor(databaseUrl: string): string {
    const u = new URL(databaseUrl);
    u.port = String(this.port);
    u.hostname = '127.0.0.1';
    return u.toString();
  }
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
