import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { SignJWT } from 'jose';
import { freePort } from '@app/platform';

/** The HS256 secret the benchmark configures on the service (JWT_SECRET) and signs with. */
export const BENCH_JWT_SECRET = 'bench-only-secret-0123456789abcdefghijklmnopqrstuvwxyz';
export const BENCH_PLATFORM_ID = 'bench-platform';

/** Environment for a benchmarked service: auth with the bench secret, rate limits out of the way. */
export function benchServiceEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    JWT_SECRET: BENCH_JWT_SECRET,
    RATE_LIMIT_INGEST_PER_MIN: '100000000',
    RATE_LIMIT_QUERY_PER_MIN: '100000000',
    LOG_LEVEL: 'warn',
    ...extra,
  };
}

export async function tokenFor(role: 'platform' | 'inspector'): Promise<string> {
  const claims: Record<string, unknown> =
    role === 'platform' ? { role, platformId: BENCH_PLATFORM_ID } : { role };
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(`bench-${role}`)
    .setIssuedAt()
    .setExpirationTime('24h')
    .sign(new TextEncoder().encode(BENCH_JWT_SECRET));
}

/**
 * The service as a child process, run as `npm start` runs it: the swc build in dist/
 * (`node --enable-source-maps --heap-growing-percent=100 dist/apps/monitor/src/main.js`).
 * Running it from the sources through `@swc-node/register` instead added ~108 MB of RSS at
 * idle (the in-memory transpiler), which is not the service's.
 */
export interface ServiceProcess {
  url: string;
  pid: number;
  child: ChildProcess;
  /** peak resident set size so far (VmHWM), MB */
  peakRssMb(): number;
  stop(): Promise<void>;
}

const ROOT = path.resolve(__dirname, '..', '..');
/**
 * Node's flags of `npm start` (package.json) and the Dockerfile. --heap-growing-percent=100:
 * V8 lets the old generation grow to 2× the live heap before the next full collection, not up
 * to 4×; the ingestion paths' batches survive a few scavenges and are promoted, so their
 * garbage, not live data, set the peak RSS (docs/benchmarks.md "RSS").
 */
const SERVICE_NODE_FLAGS = ['--enable-source-maps', '--heap-growing-percent=100'];
const MAIN = path.join(ROOT, 'dist', 'apps', 'monitor', 'src', 'main.js');
let built = false;

/** `npm run build:service` once per bench run, so that dist/ is the code of this tree. */
function buildOnce(): void {
  if (built) return;
  execFileSync('npm', ['run', '-s', 'build:service'], { cwd: ROOT, stdio: 'inherit' });
  built = true;
}

function vmHwmMb(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

export async function startService(
  env: Record<string, string>,
  log: (m: string) => void,
): Promise<ServiceProcess> {
  buildOnce();
  const port = await freePort();
  // BENCH_SERVICE_NODE_FLAGS: extra flags for the service's node, e.g. a CPU profile of the
  // HTTP or Kafka door: "--cpu-prof --cpu-prof-dir=/tmp/prof" (NODE_OPTIONS refuses --cpu-prof)
  const extra = (process.env.BENCH_SERVICE_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
  const child = spawn(process.execPath, [...SERVICE_NODE_FLAGS, ...extra, MAIN], {
    cwd: ROOT,
    env: { ...process.env, ...benchServiceEnv(), HOST: '127.0.0.1', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid!;
  let lastHwm = 0;
  let tail = '';
  const keep = (b: Buffer) => {
    tail = (tail + b.toString()).slice(-4000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let stopping = false;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code, signal) => {
      // a service that ends by itself fails the measure: say how, with its last output
      if (!stopping)
        log(`service pid ${pid} exited by itself (code ${code}, signal ${signal}):\n${tail}`);
      resolve(code);
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  // the first boot on a store the bench projected itself took 470.8 s at large (1 M contracts)
  // until the bench projected with the policy layers applied, as the service does: the boot
  // found them never applied and its first apply recomputed every contract (docs/benchmarks.md)
  const started = Date.now();
  const deadline = started + 3_600_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`service exited with ${child.exitCode}:\n${tail}`);
    try {
      const r = await fetch(`${url}/health`);
      if (r.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      stopping = true;
      child.kill('SIGKILL');
      throw new Error(`service did not become healthy in 3,600 s:\n${tail}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  log(
    `service pid ${pid} listening on ${url} (healthy ${((Date.now() - started) / 1000).toFixed(1)} s after start)`,
  );
  const peakRssMb = () => {
    const v = vmHwmMb(pid);
    if (Number.isFinite(v)) lastHwm = v;
    return lastHwm;
  };
  return {
    url,
    pid,
    child,
    peakRssMb,
    async stop() {
      peakRssMb();
      stopping = true;
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
