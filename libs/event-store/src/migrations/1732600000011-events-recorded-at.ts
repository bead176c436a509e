import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `GET /v1/platforms/lag` reads the events recorded in a period. The table is append-only and
 * `recorded_at` (the inserting transaction's start) grows with its physical order, so a BRIN
 * index — a few pages for tens of millions of rows, next to nothing per insert — narrows that
 * read to the blocks of the period; a b-tree would cost ~30 bytes a row and a write on every
 * append.
 */
export class EventsRecordedAt1732600000011 implements MigrationInterface {
  name = 'EventsRecordedAt1732600000011';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX events_recorded_at_brin ON events USING brin (recorded_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX events_recorded_at_brin`);
  }
}
