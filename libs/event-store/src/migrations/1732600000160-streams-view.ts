import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The `streams` table (one row per stream with its version, upserted by every append to check
 * the expected version) is replaced by a view over `events`. The unique key
 * `(stream_id, stream_version)` already refuses a second event at a version, which is the
 * optimistic-concurrency check; the upsert cost one statement and a row lock per stream per
 * batch (about as much as the events' COPY itself, issue #16). The view keeps the name for
 * ad-hoc queries and tools: it aggregates, so it is not for the hot path.
 */
export class StreamsView1732600000160 implements MigrationInterface {
  name = 'StreamsView1732600000160';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE streams`);
    await q.query(`
      CREATE VIEW streams AS
      SELECT stream_id, max(stream_version) AS version,
             min(recorded_at) AS created_at, max(recorded_at) AS updated_at
        FROM events GROUP BY stream_id`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP VIEW streams`);
    await q.query(`
      CREATE TABLE streams (
        stream_id  text        PRIMARY KEY,
        version    integer     NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      INSERT INTO streams (stream_id, version, created_at, updated_at)
      SELECT stream_id, max(stream_version), min(recorded_at), max(recorded_at)
        FROM events GROUP BY stream_id`);
  }
}
