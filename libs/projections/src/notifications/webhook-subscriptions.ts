import { randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { ErrorCodes } from '@app/contracts';
import { todayInShanghai } from '@app/domain';
import { WRITE_POOL } from '@app/event-store';
import { Clock, NotFoundError } from '@app/platform';
import type { Pool } from 'pg';

/** A new subscription secret: 32 random bytes, hex (shown once, at creation). */
function newSecret(): string {
  return `whsec_${randomBytes(32).toString('hex')}`;
}

export type SubscriptionState = 'active' | 'paused' | 'deleted';

export interface SubscriptionView {
  id: string;
  url: string;
  events: string[];
  region: string | null;
  unit: string | null;
  rule: string | null;
  dueSoonWorkingDays: number;
  /** overdue and late fulfilment are notified for deadlines passing from this day on */
  since: string;
  state: SubscriptionState;
  createdAt: string;
  createdBy: string;
  /** the first failed attempt since the last acknowledged one (paused 24 h after) */
  failingSince: string | null;
  pausedAt: string | null;
  deliveries: { pending: number; delivered: number; cancelled: number };
}

export interface NewSubscription {
  url: string;
  events: string[];
  region?: string;
  unit?: string;
  rule?: string;
  dueSoonWorkingDays?: number;
}

export interface DeliveryView {
  deliveryId: string;
  kind: string;
  contractId: string;
  obligationKey: string;
  status: 'pending' | 'delivered' | 'cancelled';
  attempts: number;
  decidedAt: string;
  lastAttemptAt: string | null;
  lastStatusCode: number | null;
  lastError: string | null;
  nextAttemptAt: string | null;
  deliveredAt: string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const iso = (d: Date | null) => (d === null ? null : d.toISOString());

interface SubscriptionRow {
  id: string;
  url: string;
  events: string[];
  region: string | null;
  unit_code: string | null;
  rule: string | null;
  due_soon_working_days: number;
  since: string;
  state: SubscriptionState;
  created_at: Date;
  created_by: string;
  failing_since: Date | null;
  paused_at: Date | null;
  pending: number;
  delivered: number;
  cancelled: number;
}

const SELECT = `SELECT s.*,
    (SELECT count(*)::int FROM webhook_deliveries d WHERE d.subscription_id = s.id AND d.status = 'pending') AS pending,
    (SELECT count(*)::int FROM webhook_deliveries d WHERE d.subscription_id = s.id AND d.status = 'delivered') AS delivered,
    (SELECT count(*)::int FROM webhook_deliveries d WHERE d.subscription_id = s.id AND d.status = 'cancelled') AS cancelled
  FROM webhook_subscriptions s`;

function view(r: SubscriptionRow): SubscriptionView {
  return {
    id: r.id,
    url: r.url,
    events: r.events,
    region: r.region,
    unit: r.unit_code,
    rule: r.rule,
    dueSoonWorkingDays: r.due_soon_working_days,
    since: r.since,
    state: r.state,
    createdAt: r.created_at.toISOString(),
    createdBy: r.created_by,
    failingSince: iso(r.failing_since),
    pausedAt: iso(r.paused_at),
    deliveries: { pending: r.pending, delivered: r.delivered, cancelled: r.cancelled },
  };
}

const notFound = (id: string) =>
  new NotFoundError(`webhook subscription ${id} not found`, ErrorCodes.WEBHOOK_NOT_FOUND);

/** The admins' webhook subscriptions and their delivery history (tables of migration 0151). */
@Injectable()
export class WebhookSubscriptions {
  constructor(
    @Inject(WRITE_POOL) private readonly pool: Pool,
    private readonly clock: Clock,
  ) {}

  /** Stores a subscription (the URL checked by the caller); the secret is in this answer only. */
  async create(
    s: NewSubscription,
    createdBy: string,
  ): Promise<SubscriptionView & { secret: string }> {
    const id = randomUUID();
    const secret = newSecret();
    const now = this.clock.now();
    await this.pool.query(
      `INSERT INTO webhook_subscriptions
         (id, url, secret, events, region, unit_code, rule, due_soon_working_days, since, created_at, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [
        id,
        s.url,
        secret,
        [...new Set(s.events)],
        s.region ?? null,
        s.unit ?? null,
        s.rule ?? null,
        s.dueSoonWorkingDays ?? 3,
        todayInShanghai(now),
        new Date(now).toISOString(),
        createdBy,
      ],
    );
    return { ...(await this.get(id)), secret };
  }

  async list(): Promise<SubscriptionView[]> {
    const { rows } = await this.pool.query<SubscriptionRow>(
      `${SELECT} WHERE s.state <> 'deleted' ORDER BY s.created_at, s.id`,
    );
    return rows.map(view);
  }

  async get(id: string): Promise<SubscriptionView> {
    if (!UUID.test(id)) throw notFound(id);
    const { rows } = await this.pool.query<SubscriptionRow>(
      `${SELECT} WHERE s.id = $1 AND s.state <> 'deleted'`,
      [id],
    );
    if (!rows[0]) throw notFound(id);
    return view(rows[0]);
  }

  /** Deleted: nothing more is decided or sent for it; its pending deliveries are cancelled. */
  async delete(id: string): Promise<void> {
    if (!UUID.test(id)) throw notFound(id);
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      const { rowCount } = await c.query(
        `UPDATE webhook_subscriptions SET state = 'deleted', deleted_at = $2
          WHERE id = $1 AND state <> 'deleted'`,
        [id, new Date(this.clock.now()).toISOString()],
      );
      if (!rowCount) throw notFound(id);
      await c.query(
        `UPDATE webhook_deliveries SET status = 'cancelled', lease_until = NULL
          WHERE subscription_id = $1 AND status = 'pending'`,
        [id],
      );
      await c.query('COMMIT');
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      c.release();
    }
  }

  /** A paused subscription is active again; its pending deliveries are due at once. */
  async resume(id: string): Promise<SubscriptionView> {
    if (!UUID.test(id)) throw notFound(id);
    const now = new Date(this.clock.now()).toISOString();
    const { rowCount } = await this.pool.query(
      `WITH s AS (
         UPDATE webhook_subscriptions SET state = 'active', paused_at = NULL, failing_since = NULL
          WHERE id = $1 AND state <> 'deleted' RETURNING id)
       UPDATE webhook_deliveries d SET next_attempt_at = $2
         FROM s WHERE d.subscription_id = s.id AND d.status = 'pending' AND d.lease_until IS NULL`,
      [id, now],
    );
    void rowCount;
    return this.get(id);
  }

  /** Delivery history, newest decision first. */
  async deliveries(
    id: string,
    status: DeliveryView['status'] | undefined,
    page: number,
    pageSize: number,
  ): Promise<{ page: number; pageSize: number; hasMore: boolean; items: DeliveryView[] }> {
    await this.get(id);
    const values: unknown[] = [id];
    const filter = status ? `AND status = $${values.push(status)}` : '';
    const { rows } = await this.pool.query<{
      id: string;
      kind: string;
      contract_id: string;
      obligation_key: string;
      status: DeliveryView['status'];
      attempts: number;
      decided_at: Date;
      last_attempt_at: Date | null;
      last_status_code: number | null;
      last_error: string | null;
      next_attempt_at: Date;
      delivered_at: Date | null;
    }>(
      `SELECT id, kind, contract_id, obligation_key, status, attempts, decided_at, last_attempt_at,
              last_status_code, last_error, next_attempt_at, delivered_at
         FROM webhook_deliveries WHERE subscription_id = $1 ${filter}
        ORDER BY decided_at DESC, id DESC LIMIT ${pageSize + 1} OFFSET ${(page - 1) * pageSize}`,
      values,
    );
    return {
      page,
      pageSize,
      hasMore: rows.length > pageSize,
      items: rows.slice(0, pageSize).map((r) => ({
        deliveryId: r.id,
        kind: r.kind,
        contractId: r.contract_id,
        obligationKey: r.obligation_key,
        status: r.status,
        attempts: r.attempts,
        decidedAt: r.decided_at.toISOString(),
        lastAttemptAt: iso(r.last_attempt_at),
        lastStatusCode: r.last_status_code,
        lastError: r.last_error,
        nextAttemptAt: r.status === 'pending' ? r.next_attempt_at.toISOString() : null,
        deliveredAt: iso(r.delivered_at),
      })),
    };
  }
}
