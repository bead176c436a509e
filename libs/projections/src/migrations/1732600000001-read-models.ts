import type { MigrationInterface, QueryRunner } from 'typeorm';
import { LIVE_SCHEMA, readModelDdl } from '../read-model-ddl';

/**
 * Compliance read models (schema `rm`), the working-day calendar table and the official
 * calendar years uploaded by administrators.
 */
export class ReadModels1732600000001 implements MigrationInterface {
  name = 'ReadModels1732600000001';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of readModelDdl(LIVE_SCHEMA)) await q.query(sql);
    // One row per day: a running working-day index turns "working days between" into a subtraction.
    await q.query(`
      CREATE TABLE business_days (
        day           date PRIMARY KEY,
        is_working    boolean NOT NULL,
        working_index integer NOT NULL,
        provisional   boolean NOT NULL
      )`);
    await q.query(`
      CREATE TABLE calendar_years (
        year         integer PRIMARY KEY,
        rest_days    date[] NOT NULL,
        working_days date[] NOT NULL,
        source       text NOT NULL,
        loaded_at    timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE calendar_state (
        id        boolean PRIMARY KEY DEFAULT true CHECK (id),
        version   bigint NOT NULL DEFAULT 0
      )`);
    await q.query(`INSERT INTO calendar_state (id, version) VALUES (true, 0)`);
    // Status of an obligation as of day t: the SQL twin of obligationStatusAsOf (libs/domain
    // rules/status.ts); both must stay identical (tests compare them).
    await q.query(`
      CREATE FUNCTION obligation_status(started date, deadline date, fulfilled date, exempted date, cancelled date, t date)
      RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT CASE
          WHEN started > t THEN NULL
          WHEN exempted <= t THEN 'exempted'
          WHEN fulfilled <= t THEN CASE WHEN fulfilled <= deadline THEN 'met' ELSE 'late' END
          WHEN cancelled <= t THEN CASE WHEN cancelled <= deadline THEN 'cancelled' ELSE 'overdue' END
          WHEN t > deadline THEN 'overdue'
          ELSE 'pending'
        END
      $$`);
    // The day up to which a delay counts (late: fulfilment; overdue: t, or the termination
    // that froze it); NULL when there is no delay.
    await q.query(`
      CREATE FUNCTION obligation_delay_end(started date, deadline date, fulfilled date, exempted date, cancelled date, t date)
      RETURNS date LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT CASE obligation_status(started, deadline, fulfilled, exempted, cancelled, t)
          WHEN 'late' THEN fulfilled
          WHEN 'overdue' THEN CASE WHEN cancelled <= t THEN cancelled ELSE t END
          ELSE NULL
        END
      $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION obligation_delay_end, obligation_status`);
    await q.query(`DROP TABLE calendar_state, calendar_years, business_days`);
    await q.query(`DROP SCHEMA ${LIVE_SCHEMA} CASCADE`);
  }
}
