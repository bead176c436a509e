import { randomBytes } from 'node:crypto';
import { Client, Pool } from 'pg';
import { DataSource, type MixedList } from 'typeorm';

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

function adminUrl(): string {
  const url = process.env.TEST_PG_ADMIN_URL;
  if (!url)
    throw new Error(
      'TEST_PG_ADMIN_URL is not set: run the tests through jest (globalSetup starts PostgreSQL)',
    );
  return url;
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Creates a fresh, empty database for one test file. */
export async function createTestDatabase(prefix = 't'): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`.toLowerCase();
  const admin = new Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(adminUrl(), name);
  return {
    url,
    name,
    drop: async () => {
      const c = new Client({ connectionString: adminUrl() });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** Runs the given migrations on a database (as the service does at boot). */
export async function migrate(url: string, migrations: MixedList<Function>): Promise<void> {
  const ds = new DataSource({
    type: 'postgres',
    url,
    migrations,
    migrationsTransactionMode: 'each',
    logging: ['error'],
  });
  await ds.initialize();
  try {
    await ds.runMigrations();
  } finally {
    await ds.destroy();
  }
}

/**
 * A pool for a test's own reads and writes beside the service. An idle client that the server
 * ends (a suite's `DROP DATABASE … WITH (FORCE)`, an idle timeout) is removed by pg-pool, which
 * then emits 'error' on the pool: without a listener that is an uncaught exception, and jest
 * fails whichever test happens to be running (CI, policy-apply: 57P01 from another database's
 * drop).
 */
export function testPool(url: string, max = 10): Pool {
  const pool = new Pool({ connectionString: url, max });
  pool.on('error', (err: Error & { code?: string }) => {
    console.warn(`[testPool] idle connection ended: ${err.code ?? ''} ${err.message}`);
  });
  // a checked-out client ended between two statements emits 'error' on itself (the service's
  // pools are guarded the same way: guardConnectionErrors); its next query fails
  const guarded = new WeakSet<object>();
  pool.on('acquire', (client) => {
    if (guarded.has(client)) return;
    guarded.add(client);
    client.on('error', (err: Error) => console.warn(`[testPool] connection ended: ${err.message}`));
  });
  return pool;
}
