import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { PgEventStore } from '@app/event-store';
import { APP_CONFIG, type AppConfig } from '@app/platform';
import type { PoolClient } from 'pg';
import { CalendarService } from './calendar.service';
import { ComplianceProjector, LIVE_TARGET } from './projector';
import { PROJECTION_NAME } from './read-model-ddl';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export type ProjectorState = 'disabled' | 'standby' | 'running' | 'caught-up' | 'error' | 'stopped';

/**
 * Runs the compliance projector when the `projector` role is on. One active instance per
 * projection: the instance holding a session advisory lock projects, the others stand by
 * and retry the lock (so a crashed leader is replaced as soon as its session ends).
 * Each tick: apply a calendar change if one is pending (CalendarService.applyIfChanged),
 * then one batch.
 */
@Injectable()
export class ProjectorDaemon implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Projector');
  private stopped = false;
  private lockClient: PoolClient | null = null;
  private loopDone: Promise<void> = Promise.resolve();
  private paused = 0;
  state: ProjectorState = 'disabled';
  lastError: string | null = null;
  projectedEvents = 0;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly store: PgEventStore,
    private readonly calendar: CalendarService,
    readonly projector: ComplianceProjector,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.calendar.ensureTable(this.projector);
    if (!this.config.roles.projector) return;
    this.state = 'standby';
    this.loopDone = this.loop();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await this.loopDone;
    await this.releaseLock();
    if (this.state !== 'disabled') this.state = 'stopped';
  }

  /** Rebuild (and tests) can hold the projector still while they switch tables. */
  async pause<T>(fn: () => Promise<T>): Promise<T> {
    this.paused++;
    try {
      return await fn();
    } finally {
      this.paused--;
    }
  }

  private async tryLock(): Promise<boolean> {
    if (this.lockClient) return true;
    const client = await this.store.pool.connect();
    const { rows } = await client.query<{ ok: boolean }>(
      'SELECT pg_try_advisory_lock(hashtext($1)) AS ok',
      [`projection:${PROJECTION_NAME}`],
    );
    if (rows[0].ok) {
      this.lockClient = client;
      this.logger.log('leader: projecting');
      return true;
    }
    client.release();
    return false;
  }

  private async releaseLock(): Promise<void> {
    const c = this.lockClient;
    this.lockClient = null;
    if (!c) return;
    try {
      await c.query('SELECT pg_advisory_unlock_all()');
      c.release();
    } catch {
      c.release(true);
    }
  }

  private async loop(): Promise<void> {
    let backoff = this.config.projector.idleMs;
    while (!this.stopped) {
      try {
        if (this.paused > 0) {
          await sleep(this.config.projector.idleMs);
          continue;
        }
        if (!(await this.tryLock())) {
          this.state = 'standby';
          await sleep(Math.max(1000, this.config.projector.idleMs * 5));
          continue;
        }
        const applied = await this.calendar.applyIfChanged(this.projector);
        if (applied?.outcome === 'applied')
          this.logger.log(
            `calendar version ${applied.version} applied: years ${applied.years.join(', ') || 'none'} changed, ${applied.contracts} contracts recomputed`,
          );
        const n = await this.projector.runBatch(LIVE_TARGET, this.config.projector.batchSize);
        this.projectedEvents += n;
        this.state = n === 0 ? 'caught-up' : 'running';
        this.lastError = null;
        backoff = this.config.projector.idleMs;
        if (n === 0) await sleep(this.config.projector.idleMs);
      } catch (err) {
        this.state = 'error';
        this.lastError = (err as Error).message;
        this.logger.error(
          `projection failed, retrying in ${backoff} ms: ${(err as Error).message}`,
        );
        await this.releaseLock(); // the lock's session may be the broken one
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 30_000);
      }
    }
  }

  /** Runs batches until nothing is left (tests, CLI). */
  async catchUp(): Promise<number> {
    let total = 0;
    for (;;) {
      await this.calendar.applyIfChanged(this.projector);
      const n = await this.projector.runBatch(LIVE_TARGET, this.config.projector.batchSize);
      total += n;
      if (n === 0) return total;
    }
  }
}
