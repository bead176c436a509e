/**
 * Migrations are frozen as written; the read-model DDL builder (`readModelDdl`) is what a
 * rebuild creates. The two must give the same schema: an empty database migrated in order
 * (event store, then read models) has in `rm` exactly what the builder creates in `rm_build`
 * (the way RebuildService.prepare does) — columns (name, type, nullability, default), indexes,
 * constraints and functions, with the schema name normalised.
 */
import { EVENT_STORE_MIGRATIONS } from '@app/event-store';
import { READ_MODEL_MIGRATIONS } from '@app/projections';
import { createTestDatabase, migrate, testPool, type TestDatabase } from '@app/testing';
import type { Pool } from 'pg';
import { readModelDdl } from '../../libs/projections/src/read-model-ddl';

const LIVE = 'rm';
const BUILD = 'rm_build';
const ALL_MIGRATIONS = [...EVENT_STORE_MIGRATIONS, ...READ_MODEL_MIGRATIONS];

/** The shape of one schema, its own name replaced by `S`. */
async function shapeOf(pool: Pool, schema: string) {
  const norm = (s: string | null) =>
    s === null ? null : s.replace(new RegExp(`"?\\b${schema}\\b"?\\.`, 'g'), 'S.');
  const q = async (sql: string) =>
    (await pool.query(sql, [schema])).rows.map((r: Record<string, string | null>) =>
      Object.fromEntries(Object.entries(r).map(([k, v]) => [k, norm(v)])),
    );
  return {
    tables: await q(
      `SELECT table_name, table_type FROM information_schema.tables
        WHERE table_schema = $1 ORDER BY table_name`,
    ),
    // in column order (ordinal_position itself counts dropped columns)
    columns: await q(
      `SELECT table_name, column_name, data_type, udt_name, is_nullable, column_default
         FROM information_schema.columns WHERE table_schema = $1
        ORDER BY table_name, ordinal_position`,
    ),
    indexes: await q(
      `SELECT tablename, indexname, indexdef FROM pg_indexes
        WHERE schemaname = $1 ORDER BY tablename, indexname`,
    ),
    constraints: await q(
      `SELECT t.relname AS table_name, c.conname, c.contype::text, pg_get_constraintdef(c.oid) AS def
         FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
         JOIN pg_namespace n ON n.oid = t.relnamespace
        WHERE n.nspname = $1 ORDER BY 1, 2`,
    ),
    functions: await q(
      `SELECT p.proname, pg_get_function_identity_arguments(p.oid) AS args, pg_get_functiondef(p.oid) AS def
         FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = $1 ORDER BY 1, 2`,
    ),
  };
}

async function buildFromDdl(pool: Pool): Promise<void> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    await c.query(`DROP SCHEMA IF EXISTS "${BUILD}" CASCADE`);
    for (const sql of readModelDdl(BUILD)) await c.query(sql);
    await c.query('COMMIT');
  } catch (err) {
    await c.query('ROLLBACK');
    throw err;
  } finally {
    c.release();
  }
}

describe('migrations and the read-model DDL builder', () => {
  let db: TestDatabase;
  let pool: Pool;

  beforeAll(async () => {
    db = await createTestDatabase('mig');
    await migrate(db.url, ALL_MIGRATIONS);
    pool = testPool(db.url, 2);
    await buildFromDdl(pool);
  });
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  it('an empty database migrated in order has the schema the builder creates', async () => {
    const migrated = await shapeOf(pool, LIVE);
    const built = await shapeOf(pool, BUILD);
    // the comparison sees something: every read-model table, its indexes and keys
    expect(migrated.tables.map((t) => t.table_name)).toEqual([
      'allocations',
      'contracts',
      'invoices',
      'obligations',
      'payments',
      'summary_state',
      'unit_rule_counts',
    ]);
    expect(migrated.indexes.length).toBeGreaterThan(10);
    expect(migrated.constraints.length).toBeGreaterThan(5);
    expect(migrated).toEqual(built);
  });

  it('every migration ran, in order, and no violation index is left descending', async () => {
    const { rows } = await pool.query<{ name: string }>(
      'SELECT name FROM migrations ORDER BY timestamp',
    );
    // TypeORM runs them by the timestamp in their names, across both libraries
    const byTimestamp = ALL_MIGRATIONS.map((m) => new m().name).sort(
      (a, b) => Number(a.slice(-13)) - Number(b.slice(-13)),
    );
    expect(rows.map((r) => r.name)).toEqual(byTimestamp);
    const { rows: defs } = await pool.query<{ indexdef: string }>(
      `SELECT indexdef FROM pg_indexes WHERE schemaname = 'rm' AND indexdef LIKE '%deadline%'`,
    );
    expect(defs.length).toBeGreaterThan(0);
    expect(defs.filter((d) => d.indexdef.includes('DESC'))).toEqual([]);
  });

  it('the event store has the BRIN index on recorded_at that GET /v1/platforms/lag reads', async () => {
    const { rows } = await pool.query<{ indexdef: string }>(
      `SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'events'
          AND indexname = 'events_recorded_at_brin'`,
    );
    expect(rows.map((r) => r.indexdef)).toEqual([
      'CREATE INDEX events_recorded_at_brin ON public.events USING brin (recorded_at)',
    ]);
  });

  it('a database migrated by earlier texts of migrations 0001, 0002 and 0004 is brought to the same schema', async () => {
    // what those texts left: descending violation indexes (0001 as first released), the
    // per-unit rule index instead of the settled one (0002 before 6f46981), no rebuild
    // status table (0004 before 7d2cc0e)
    await pool.query(`DROP INDEX rm.obligations_violation_idx, rm.obligations_unit_violation_idx`);
    await pool.query(`CREATE INDEX obligations_violation_idx ON rm.obligations (deadline DESC, contract_id, key)
       WHERE fulfilled_on IS NULL OR fulfilled_on > deadline`);
    await pool.query(`CREATE INDEX obligations_unit_violation_idx ON rm.obligations (unit_code, deadline DESC, contract_id, key)
       WHERE fulfilled_on IS NULL OR fulfilled_on > deadline`);
    await pool.query(`DROP INDEX rm.obligations_unit_settled_idx`);
    await pool.query(`CREATE INDEX obligations_unit_rule_idx ON rm.obligations (unit_code, rule)`);
    await pool.query(`DROP TABLE projection_rebuilds`);
    await pool.query(`DELETE FROM migrations WHERE name = 'ReadModelDrift1732600000005'`);
    expect(await shapeOf(pool, LIVE)).not.toEqual(await shapeOf(pool, BUILD));

    await migrate(db.url, ALL_MIGRATIONS);
    expect(await shapeOf(pool, LIVE)).toEqual(await shapeOf(pool, BUILD));
    const { rows } = await pool.query(`SELECT to_regclass('projection_rebuilds') AS t`);
    expect(rows[0].t).toBe('projection_rebuilds');
  });
});
