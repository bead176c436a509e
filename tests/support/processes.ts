/**
 * The service as a test runs it beside others: in this process on a given database, as a real
 * child process (`node -r @swc-node/register apps/monitor/src/main.ts`), and a TCP proxy in
 * front of PostgreSQL that can be switched off.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { createApp } from '../../apps/monitor/src/bootstrap';
import { KafkaMetrics, type KafkaMetricsSnapshot } from '../../apps/monitor/src/kafka';
import { loadConfig } from '@app/platform';

const ROOT = path.resolve(__dirname, '../..');

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
