import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The event store. `transaction_id` (xid8) makes reads gap-safe: a reader only takes
 * events whose transaction is older than every transaction still running
 * (pg_snapshot_xmin), in (transaction_id, global_position) order, so an event committed
 * late by a slow transaction is never skipped (the emmett / Marten technique).
 */
export class EventStore1732600000000 implements MigrationInterface {
  name = 'EventStore1732600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE events (
        global_position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        transaction_id  xid8        NOT NULL DEFAULT pg_current_xact_id(),
        stream_id       text        NOT NULL,
        stream_version  integer     NOT NULL,
        event_id        uuid        NOT NULL,
        type            text        NOT NULL,
        schema_version  smallint    NOT NULL,
        occurred_at     timestamptz NOT NULL,
        recorded_at     timestamptz NOT NULL DEFAULT now(),
        data            jsonb       NOT NULL,
        metadata        jsonb       NOT NULL DEFAULT '{}'::jsonb,
        CONSTRAINT events_event_id_key UNIQUE (event_id),
        CONSTRAINT events_stream_version_key UNIQUE (stream_id, stream_version),
        CONSTRAINT events_stream_version_positive CHECK (stream_version > 0)
      )`);
    await q.query(
      `CREATE INDEX events_transaction_position_idx ON events (transaction_id, global_position)`,
    );
    await q.query(`
      CREATE TABLE streams (
        stream_id  text        PRIMARY KEY,
        version    integer     NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE rejected_events (
        id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        event_id     text,
        contract_id  text,
        type         text,
        code         text        NOT NULL,
        message      text        NOT NULL,
        errors       jsonb       NOT NULL DEFAULT '[]'::jsonb,
        payload      text        NOT NULL,
        payload_truncated boolean NOT NULL DEFAULT false,
        source       jsonb       NOT NULL DEFAULT '{}'::jsonb,
        rejected_at  timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX rejected_events_event_id_idx ON rejected_events (event_id)`);
    await q.query(`CREATE INDEX rejected_events_rejected_at_idx ON rejected_events (rejected_at)`);
    await q.query(`
      CREATE TABLE projection_checkpoints (
        name            text        PRIMARY KEY,
        transaction_id  xid8        NOT NULL DEFAULT '0'::xid8,
        global_position bigint      NOT NULL DEFAULT 0,
        updated_at      timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE projection_checkpoints, rejected_events, streams, events`);
  }
}
