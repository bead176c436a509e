import { Inject, Injectable } from '@nestjs/common';
import { WRITE_POOL } from '@app/event-store';
import type { Pool } from 'pg';

/** A subscription failing this long (no acknowledgement since its first failure) is paused. */
export const PAUSE_AFTER_MS = 24 * 3600 * 1000;

/** A delivery claimed for one attempt. */
export interface ClaimedDelivery {
  id: string;
  subscriptionId: string;
  kind: string;
  /** the exact bytes to sign and send */
  body: string;
  /** this attempt's number (1 = first) */
  attempt: number;
  url: string;
  secret: string;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The delivery side of the outbox (`webhook_deliveries`), for the delivery worker. Times are
 * the service's Clock readings, passed in.
 */
@Injectable()
export class WebhookOutbox {
  constructor(@Inject(WRITE_POOL) private readonly pool: Pool) {}

  /**
   * Claims up to `limit` due deliveries of active subscriptions — `FOR UPDATE SKIP LOCKED`,
   * so concurrent instances never claim the same one — and leases them: the next attempt
   * moves to `now + leaseMs` and the attempt is counted, committed at once (no transaction
   * stays open while sending). A claim whose process dies is due again when its lease ends.
   */
  async claim(nowMs: number, leaseMs: number, limit: number): Promise<ClaimedDelivery[]> {
    const { rows } = await this.pool.query<{
      id: string;
      subscription_id: string;
      kind: string;
      body: string;
      attempts: number;
      url: string;
      secret: string;
    }>(
      `WITH due AS (
         SELECT d.id FROM webhook_deliveries d
           JOIN webhook_subscriptions s ON s.id = d.subscription_id AND s.state = 'active'
          WHERE d.status = 'pending' AND d.next_attempt_at <= $1
          ORDER BY d.next_attempt_at
          LIMIT $3
          FOR UPDATE OF d SKIP LOCKED)
       UPDATE webhook_deliveries d
          SET attempts = d.attempts + 1, last_attempt_at = $1, lease_until = $2, next_attempt_at = $2
         FROM due, webhook_subscriptions s
        WHERE d.id = due.id AND s.id = d.subscription_id
      RETURNING d.id, d.subscription_id, d.kind, d.body, d.attempts, s.url, s.secret`,
      [iso(nowMs), iso(nowMs + leaseMs), limit],
    );
    return rows.map((r) => ({
      id: r.id,
      subscriptionId: r.subscription_id,
      kind: r.kind,
      body: r.body,
      attempt: r.attempts,
      url: r.url,
      secret: r.secret,
    }));
  }

  /** Acknowledged: `delivered`, never claimed again; the subscription is no longer failing. */
  async delivered(d: ClaimedDelivery, nowMs: number, statusCode: number | null): Promise<void> {
    await this.pool.query(
      `WITH d AS (
         UPDATE webhook_deliveries
            SET status = 'delivered', delivered_at = $2, last_status_code = $3, last_error = NULL,
                lease_until = NULL
          WHERE id = $1 AND status = 'pending' RETURNING subscription_id)
       UPDATE webhook_subscriptions s SET failing_since = NULL
         FROM d WHERE s.id = d.subscription_id AND s.failing_since IS NOT NULL`,
      [d.id, iso(nowMs), statusCode],
    );
  }

  /**
   * Not acknowledged: the next attempt at `nextMs` (if this claim is still the delivery's
   * latest), and the subscription failing since its first failure; paused once that is 24 h
   * ago. Returns whether this failure paused it.
   */
  async failed(
    d: ClaimedDelivery,
    nowMs: number,
    nextMs: number,
    statusCode: number | null,
    error: string,
  ): Promise<{ paused: boolean }> {
    const now = iso(nowMs);
    const { rows } = await this.pool.query<{ paused: boolean }>(
      `WITH d AS (
         UPDATE webhook_deliveries
            SET next_attempt_at = $2, lease_until = NULL, last_status_code = $3, last_error = $4
          WHERE id = $1 AND status = 'pending' AND attempts = $5 RETURNING subscription_id),
       s0 AS (
         SELECT s.id, s.state = 'active'
                  AND coalesce(s.failing_since, $6::timestamptz) <= $6::timestamptz - $7 * interval '1 millisecond' AS pause
           FROM webhook_subscriptions s JOIN d ON d.subscription_id = s.id)
       UPDATE webhook_subscriptions s
          SET failing_since = coalesce(s.failing_since, $6::timestamptz),
              state = CASE WHEN s0.pause THEN 'paused' ELSE s.state END,
              paused_at = CASE WHEN s0.pause THEN $6::timestamptz ELSE s.paused_at END
         FROM s0 WHERE s.id = s0.id
     RETURNING s0.pause AS paused`,
      [d.id, iso(nextMs), statusCode, error.slice(0, 500), d.attempt, now, PAUSE_AFTER_MS],
    );
    return { paused: rows[0]?.paused ?? false };
  }

  /** Pending deliveries of subscriptions not deleted, and when the oldest was decided. */
  async pending(): Promise<{ pending: number; oldestDecidedAt: Date | null }> {
    const { rows } = await this.pool.query<{ pending: number; oldest: Date | null }>(
      `SELECT count(*)::int AS pending, min(d.decided_at) AS oldest
         FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id
        WHERE d.status = 'pending' AND s.state <> 'deleted'`,
    );
    return { pending: rows[0].pending, oldestDecidedAt: rows[0].oldest };
  }
}
