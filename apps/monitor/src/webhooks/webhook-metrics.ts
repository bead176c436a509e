import { Injectable } from '@nestjs/common';
import { Clock, Metrics } from '@app/platform';
import { WebhookOutbox } from '@app/projections';
import type { Counter } from 'prom-client';

/**
 * `webhook_deliveries_sent_total{kind}` (acknowledged to this instance),
 * `webhook_delivery_failures_total{kind,reason}` (failed attempts: http_status, timeout,
 * network, refused), and from the outbox at scrape time (every instance sees the same):
 * `webhook_deliveries_pending` and `webhook_oldest_pending_age_seconds` (since decided), of
 * subscriptions not deleted.
 */
@Injectable()
export class WebhookMetrics {
  readonly sent: Counter<'kind'>;
  readonly failed: Counter<'kind' | 'reason'>;

  constructor(metrics: Metrics, outbox: WebhookOutbox, clock: Clock) {
    this.sent = metrics.counter({
      name: 'webhook_deliveries_sent_total',
      help: 'Webhook deliveries acknowledged (2xx) to this instance.',
      labelNames: ['kind'],
    });
    this.failed = metrics.counter({
      name: 'webhook_delivery_failures_total',
      help: 'Failed webhook delivery attempts of this instance (reason: http_status, timeout, network, refused).',
      labelNames: ['kind', 'reason'],
    });
    // one read of the outbox per scrape, for both gauges
    let last: Promise<{ pending: number; age: number } | null> | null = null;
    const read = () =>
      (last ??= outbox
        .pending()
        .then((r) => ({
          pending: r.pending,
          age: r.oldestDecidedAt
            ? Math.max(0, (clock.now() - r.oldestDecidedAt.getTime()) / 1000)
            : 0,
        }))
        .catch(() => null)
        .finally(() => setTimeout(() => (last = null), 0)));
    metrics.gauge({
      name: 'webhook_deliveries_pending',
      help: 'Webhook deliveries decided and not yet acknowledged (paused subscriptions included).',
      async collect() {
        this.reset();
        const r = await read();
        if (r) this.set(r.pending);
      },
    });
    metrics.gauge({
      name: 'webhook_oldest_pending_age_seconds',
      help: 'Age of the oldest pending webhook delivery since it was decided (0 when none).',
      async collect() {
        this.reset();
        const r = await read();
        if (r) this.set(r.age);
      },
    });
  }
}
