import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { APP_CONFIG, backoffMs, Clock, Sleeper, type AppConfig } from '@app/platform';
import { WebhookOutbox, type ClaimedDelivery } from '@app/projections';
import { signatureOf } from './signature';
import { WebhookMetrics } from './webhook-metrics';
import { postWebhook, type SendResult } from './webhook-sender';
import { parseWebhookUrl, WebhookUrlRefused } from './webhook-url';

/**
 * The `notifier` role (ROLE_NOTIFIER): sends the outbox. Each round claims due deliveries of
 * active subscriptions (WebhookOutbox.claim: SKIP LOCKED and a lease, committed before
 * sending), sends them with no transaction open, and records each outcome: acknowledged
 * (2xx) → `delivered`, never claimed again; otherwise the next attempt after a backoff with
 * jitter, and the subscription paused once it has failed for 24 h. A process killed mid-send
 * leaves the lease to run out: the delivery is sent again with the same `X-Delivery-Id` (at
 * least once; docs/webhooks.md). Times come from the service's Clock.
 */
@Injectable()
export class DeliveryWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Notifier');
  private readonly sleeper = new Sleeper();
  private stopped = false;
  private loopDone: Promise<void> = Promise.resolve();
  state: 'disabled' | 'running' | 'error' | 'stopped' = 'disabled';

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly outbox: WebhookOutbox,
    private readonly clock: Clock,
    private readonly metrics: WebhookMetrics,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.roles.notifier) return;
    this.state = 'running';
    this.loopDone = this.loop();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.sleeper.wake();
    await this.loopDone;
    if (this.state !== 'disabled') this.state = 'stopped';
  }

  /** the lease: longer than one attempt can take, so no other instance sends it meanwhile */
  private get leaseMs(): number {
    return this.config.webhooks.timeoutMs * 2 + 5000;
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      try {
        const n = await this.round();
        this.state = 'running';
        failures = 0;
        if (n === 0) await this.sleeper.sleep(this.config.webhooks.pollMs);
      } catch (err) {
        this.state = 'error';
        failures++;
        const wait = backoffMs(failures, 200, 5000);
        this.logger.error(
          `delivery round failed, retrying in ${wait} ms: ${(err as Error).message}`,
        );
        await this.sleeper.sleep(wait);
      }
    }
  }

  /** Claims and sends one round of due deliveries; returns how many. */
  async round(): Promise<number> {
    const claimed = await this.outbox.claim(
      this.clock.now(),
      this.leaseMs,
      this.config.webhooks.concurrency,
    );
    await Promise.all(claimed.map((d) => this.deliver(d)));
    return claimed.length;
  }

  private async deliver(d: ClaimedDelivery): Promise<void> {
    const opts = {
      timeoutMs: this.config.webhooks.timeoutMs,
      allowPrivate: this.config.webhooks.allowPrivate,
    };
    let result: SendResult;
    try {
      const url = parseWebhookUrl(d.url, opts.allowPrivate);
      result = await postWebhook(
        url,
        d.body,
        {
          'x-delivery-id': d.id,
          'x-signature-256': signatureOf(d.secret, d.body),
          'x-webhook-kind': d.kind,
          'x-delivery-attempt': String(d.attempt),
        },
        opts,
      );
    } catch (err) {
      result = {
        ok: false,
        statusCode: null,
        error:
          err instanceof WebhookUrlRefused ? `${err.code}: ${err.message}` : (err as Error).message,
      };
    }
    if (result.ok) this.metrics.sent.inc({ kind: d.kind });
    else this.metrics.failed.inc({ kind: d.kind, reason: reasonOf(result) });
    await this.record(d, result);
  }

  /**
   * Records an outcome, retried while the database is away (an acknowledgement recorded late
   * is still recorded; until then the lease keeps other instances off it).
   */
  private async record(d: ClaimedDelivery, r: SendResult): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        const now = this.clock.now();
        if (r.ok) {
          await this.outbox.delivered(d, now, r.statusCode);
        } else {
          const next =
            now +
            backoffMs(d.attempt, this.config.webhooks.retryBaseMs, this.config.webhooks.retryMaxMs);
          const { paused } = await this.outbox.failed(
            d,
            now,
            next,
            r.statusCode,
            r.error ?? 'failed',
          );
          if (paused)
            this.logger.warn(`webhook subscription ${d.subscriptionId} paused: failing for 24 h`);
        }
        return;
      } catch (err) {
        if (this.stopped && attempt >= 3) {
          this.logger.warn(
            `delivery ${d.id}: outcome not recorded before shutdown (${(err as Error).message}); sent again after its lease`,
          );
          return;
        }
        await this.sleeper.sleep(backoffMs(attempt, 200, 5000));
      }
    }
  }
}

function reasonOf(r: SendResult): string {
  if (r.statusCode !== null) return 'http_status';
  if (r.error?.startsWith('WEBHOOK.')) return 'refused';
  if (r.error?.startsWith('timeout')) return 'timeout';
  return 'network';
}
