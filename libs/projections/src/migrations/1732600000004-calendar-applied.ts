import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Durable calendar application and rebuild status.
 *
 * `calendar_state` gains what was last *applied* to `business_days` and the read models:
 * the upload version (`applied_version`), the whole applied calendar (`applied_calendar`:
 * package data merged with the uploads, one `{year, restDays, workingDays}` per official
 * year) and its fingerprint. NULL = never applied by this code: the next apply assumes the
 * stored deadlines were computed from the package data and recomputes the uploaded years.
 *
 * `projection_rebuilds`: one row per projection, the last rebuild's state, so that a
 * rebuild whose process died shows as failed (instead of nothing) at the next start.
 */
export class CalendarApplied1732600000004 implements MigrationInterface {
  name = 'CalendarApplied1732600000004';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE calendar_state
      ADD COLUMN applied_version     bigint,
      ADD COLUMN applied_fingerprint text,
      ADD COLUMN applied_calendar    jsonb,
      ADD COLUMN applied_at          timestamptz`);
    await q.query(`
      CREATE TABLE projection_rebuilds (
        name        text PRIMARY KEY,
        state       text NOT NULL CHECK (state IN ('running', 'done', 'failed')),
        started_at  timestamptz NOT NULL,
        finished_at timestamptz,
        events      bigint NOT NULL DEFAULT 0,
        error       text,
        owner       text NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE projection_rebuilds`);
    await q.query(`ALTER TABLE calendar_state
      DROP COLUMN applied_version, DROP COLUMN applied_fingerprint,
      DROP COLUMN applied_calendar, DROP COLUMN applied_at`);
  }
}
