import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Rejections read from Kafka are keyed by their record (topic, partition, offset): a record
 * redelivered after a crash between the append and the offset commit is not kept twice, and
 * `dead_lettered_at` says it already reached the dead-letter topic, so it is not sent again.
 */
export class AuditKeys1732600000003 implements MigrationInterface {
  name = 'AuditKeys1732600000003';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE rejected_events ADD COLUMN dead_lettered_at timestamptz`);
    // a store upgraded from at-least-once rejections may hold doubles: keep the first of each
    await q.query(`
      DELETE FROM rejected_events r USING rejected_events f
       WHERE r.source->>'kind' = 'kafka' AND f.source->>'kind' = 'kafka'
         AND r.source->>'topic' = f.source->>'topic'
         AND r.source->>'partition' = f.source->>'partition'
         AND r.source->>'offset' = f.source->>'offset'
         AND r.id > f.id`);
    await q.query(`
      CREATE UNIQUE INDEX rejected_events_kafka_record_key
          ON rejected_events ((source->>'topic'), (source->>'partition'), (source->>'offset'))
       WHERE source->>'kind' = 'kafka'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX rejected_events_kafka_record_key`);
    await q.query(`ALTER TABLE rejected_events DROP COLUMN dead_lettered_at`);
  }
}
