import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startEmbeddedPostgres } from '../../platform/src/embedded-postgres';
import { kafkaSuitesSelected, startTestKafka, type StartedKafka } from './kafka-harness';
import { browserSuitesSelected, ensureDashboardBuilt } from './browser-harness';

/** Where the test PostgreSQL came from, for the log and teardown. */
interface Started {
  kind: string;
  stop: () => Promise<void>;
}

function dockerRuns(): boolean {
  try {
    execFileSync('docker', ['info'], { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

/**
 * Test PostgreSQL: TEST_DATABASE_URL if set; else a testcontainers PostgreSQL where Docker
 * runs; else a real PostgreSQL from embedded-postgres. Each test file then creates its own
 * database on it (see createTestDatabase), so suites never share state.
 */
async function startPostgres(): Promise<void> {
  const g = globalThis as { __testPg?: Started };
  if (process.env.TEST_DATABASE_URL) {
    process.env.TEST_PG_ADMIN_URL = process.env.TEST_DATABASE_URL;
    console.log('\n[test] PostgreSQL: TEST_DATABASE_URL');
    return;
  }
  if (dockerRuns()) {
    const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
    const c = await new PostgreSqlContainer('postgres:16-alpine').start();
    process.env.TEST_PG_ADMIN_URL = c.getConnectionUri();
    g.__testPg = { kind: 'testcontainers', stop: async () => void (await c.stop()) };
    console.log('\n[test] PostgreSQL: testcontainers');
    return;
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'monitor-test-pg-'));
  chmodSync(dir, 0o755); // the postgres system user (when run as root) must reach it
  const db = await startEmbeddedPostgres(dir, { database: 'postgres', persistent: false });
  process.env.TEST_PG_ADMIN_URL = db.url;
  g.__testPg = { kind: 'embedded', stop: () => db.stop() };
  console.log(
    `\n[test] PostgreSQL: embedded-postgres on port ${db.port} (no TEST_DATABASE_URL, no Docker)`,
  );
}

/**
 * PostgreSQL as above; the built dashboard when a browser suite is selected (see
 * browser-harness.ts); then Kafka when a Kafka suite is selected (see kafka-harness.ts).
 */
export default async function globalSetup(globalConfig?: {
  rootDir?: string;
  testPathPatterns?: { patterns?: readonly string[] };
}): Promise<void> {
  await startPostgres();
  const rootDir = globalConfig?.rootDir ?? path.resolve(__dirname, '../../..');
  if (browserSuitesSelected(rootDir, globalConfig?.testPathPatterns?.patterns ?? []))
    ensureDashboardBuilt(rootDir);
  if (!kafkaSuitesSelected(rootDir, globalConfig?.testPathPatterns?.patterns ?? [])) {
    process.env.TEST_KAFKA_UNAVAILABLE = 'not started: no Kafka suite among the selected paths';
    return;
  }
  (globalThis as { __testKafka?: StartedKafka | null }).__testKafka = await startTestKafka(rootDir);
}
