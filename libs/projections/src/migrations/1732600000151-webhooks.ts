import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Early-warning notifications (SPEC §8; docs/webhooks.md, docs/decisions.md "Notifications").
 *
 * - `webhook_subscriptions`: the admins' subscriptions (url, secret, kinds, filters). Deleted
 *   ones are kept (state `deleted`) with their delivery history.
 * - `webhook_deliveries`: the outbox. One row per (subscription, obligation, kind), unique
 *   for good: the projector inserts it in the transaction that replaces the read models
 *   (`ON CONFLICT DO NOTHING`), the sweep the same way, the delivery worker sends it. `id` is
 *   the `X-Delivery-Id`; `body` the exact bytes signed and sent, every attempt alike.
 * - `notification_sweeps`: the day the sweep last ran for (deadlines that passed since are
 *   swept next time).
 *
 * Outside the `rm` schema: a rebuild swaps `rm`, never the outbox. Numbered 0151 (issue 15)
 * so that migrations other branches add meanwhile keep their own numbers.
 */
export class Webhooks1732600000151 implements MigrationInterface {
  name = 'Webhooks1732600000151';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE webhook_subscriptions (
        id            uuid PRIMARY KEY,
        url           text NOT NULL,
        secret        text NOT NULL,
        events        text[] NOT NULL,
        region        text,
        unit_code     text,
        rule          text,
        due_soon_working_days integer NOT NULL,
        since         date NOT NULL,
        state         text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'paused', 'deleted')),
        created_at    timestamptz NOT NULL,
        created_by    text NOT NULL,
        failing_since timestamptz,
        paused_at     timestamptz,
        deleted_at    timestamptz
      )`);
    await q.query(`
      CREATE TABLE webhook_deliveries (
        id              uuid PRIMARY KEY,
        subscription_id uuid NOT NULL REFERENCES webhook_subscriptions (id),
        contract_id     text NOT NULL,
        obligation_key  text NOT NULL,
        kind            text NOT NULL,
        body            text NOT NULL,
        decided_at      timestamptz NOT NULL,
        decided_on      date NOT NULL,
        status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'cancelled')),
        attempts        integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL,
        lease_until     timestamptz,
        last_attempt_at timestamptz,
        last_status_code integer,
        last_error      text,
        delivered_at    timestamptz,
        UNIQUE (subscription_id, contract_id, obligation_key, kind)
      )`);
    await q.query(
      `CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending'`,
    );
    await q.query(
      `CREATE INDEX webhook_deliveries_history_idx ON webhook_deliveries (subscription_id, decided_at DESC, id)`,
    );
    await q.query(`
      CREATE TABLE notification_sweeps (
        id       boolean PRIMARY KEY DEFAULT true CHECK (id),
        swept_on date NOT NULL,
        swept_at timestamptz NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE notification_sweeps, webhook_deliveries, webhook_subscriptions`);
  }
}
