import { addDays } from '@app/domain';
import { withTransaction } from '@app/event-store';
import type { Pool } from 'pg';
import { UNTIL_SQL } from '../queries/list-deadlines.query-handler';
import { LIVE_SCHEMA } from '../read-model-ddl';
import type { NotificationDecider } from './notification-decider';

const SWEEP_LOCK = 'notification-sweep';

export interface SweepResult {
  /** false: another transaction was sweeping (nothing done) */
  swept: boolean;
  today: string;
  /** the open deadlines looked at */
  from: string | null;
  to: string | null;
  decided: number;
}

/**
 * Obligations become due soon and overdue as days pass, with no event: the sweep decides
 * those. It looks at the open obligations (the partial index `obligations_open_deadline_idx`)
 * whose deadline is between the day before the last sweep's day (overdue since) and the
 * furthest due-soon threshold of any subscription, and decides them as the projector does
 * (`decideNotifications`: once per subscription, obligation and kind, whatever is swept
 * again). One transaction under an advisory lock: safe from any number of instances; the
 * projector leader runs it every WEBHOOK_SWEEP_INTERVAL_MS.
 */
export class NotificationSweep {
  constructor(
    private readonly pool: Pool,
    private readonly decider: NotificationDecider,
  ) {}

  run(): Promise<SweepResult> {
    return withTransaction(this.pool, async (c) => {
      const today = this.decider.today();
      const { rows: lock } = await c.query<{ ok: boolean }>(
        'SELECT pg_try_advisory_xact_lock(hashtext($1)) AS ok',
        [SWEEP_LOCK],
      );
      if (!lock[0].ok) return { swept: false, today, from: null, to: null, decided: 0 };
      // deliveries a deletion raced with (decided before it committed) go with it
      await c.query(
        `UPDATE webhook_deliveries d SET status = 'cancelled', lease_until = NULL
           FROM webhook_subscriptions s
          WHERE s.id = d.subscription_id AND s.state = 'deleted' AND d.status = 'pending'`,
      );
      const { rows } = await c.query<{ swept_on: string | null; within: number | null }>(
        `SELECT (SELECT swept_on FROM notification_sweeps) AS swept_on,
                (SELECT max(due_soon_working_days) FROM webhook_subscriptions
                  WHERE state <> 'deleted' AND 'obligation.due_soon' = ANY(events)) AS within`,
      );
      const last = rows[0].swept_on;
      const from = addDays(last !== null && last < today ? last : today, -1);
      const { rows: lim } = await c.query<{ until: string | null }>(
        `SELECT ${UNTIL_SQL('$1::date', '$2::int')}::text AS until`,
        [today, rows[0].within ?? 0],
      );
      const to = lim[0].until ?? today;
      const decided = await this.decider.decide(c, LIVE_SCHEMA, {
        openDeadlineFrom: from,
        openDeadlineTo: to,
      });
      await c.query(
        `INSERT INTO notification_sweeps (id, swept_on, swept_at) VALUES (true, $1, now())
         ON CONFLICT (id) DO UPDATE SET swept_on = excluded.swept_on, swept_at = excluded.swept_at`,
        [today],
      );
      return { swept: true, today, from, to, decided };
    });
  }
}
