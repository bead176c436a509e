import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { readCheckpoint, WRITE_POOL } from '@app/event-store';
import { APP_CONFIG, type AppConfig } from '@app/platform';
import type { Pool, PoolClient } from 'pg';
import { CalendarService } from './calendar.service';
import { NotificationSweep } from './notifications/notification-sweep';
import { ComplianceProjector, LIVE_TARGET } from './projector';
import { LIVE_SCHEMA, PROJECTION_NAME } from './read-model-ddl';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `behind`: caught up with what it may read, but events are stored beyond its checkpoint
 * that gap safety holds back (an older transaction still open), or a batch failed to take
 * them yet.
 */
export type ProjectorState =
  'disabled' | 'standby' | 'running' | 'caught-up' | 'behind' | 'error' | 'stopped';

/** After a failure, retries back off from PROJECTOR_IDLE_MS up to this (or idleMs if longer). */
const MAX_BACKOFF_MS = 1000;
/** How often the leader checks on its lock connection that it still holds the lock. */
const LOCK_CHECK_MS = 1000;
/** How often the lag is counted while batches run (always when idle), and its cap. */
const LAG_EVERY_MS = 1000;
const LAG_COUNT_CAP = 100_000;

const LOCK_NAME = `projection:${PROJECTION_NAME}`;

/** What /health shows of the projector (no error texts: they may quote data). */
export interface ProjectorHealth {
  state: ProjectorState;
  /** events stored beyond the checkpoint at the last count (counted up to 100,000); null when not leading */
  behind: number | null;
  lastErrorAt: string | null;
}

/**
 * Runs the compliance projector when the `projector` role is on. One active instance per
 * projection: the instance holding a session advisory lock projects, the others stand by
 * and retry the lock (so a crashed leader is replaced as soon as its session ends). The
 * leader checks that its lock session is still alive (at most a second apart, and at once
 * when the connection reports an error); when it is gone it stops and re-elects.
 * Each tick: apply a calendar change if one is pending (CalendarService.applyIfChanged),
 * then one step: a chunk of the catch-up pass when far behind, else one batch
 * (ComplianceProjector.step).
 */
@Injectable()
export class ProjectorDaemon implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Projector');
  private stopped = false;
  private lockClient: PoolClient | null = null;
  private lockLost = false;
  private lockCheckedAt = 0;
  private readonly onLockError = () => {
    this.lockLost = true;
  };
  private loopDone: Promise<void> = Promise.resolve();
  private firstPolicyApply: Promise<void> = Promise.resolve();
  private paused = 0;
  private lagCountedAt = 0;
  state: ProjectorState = 'disabled';
  lastError: string | null = null;
  lastErrorAt: string | null = null;
  /** events beyond the checkpoint at the last count (capped at LAG_COUNT_CAP) */
  behind: number | null = null;
  /** the checkpoint's global position at the last count (null before the first) */
  position: string | null = null;
  projectedEvents = 0;
  /** Told of every batch the loop ran (events, seconds): the /metrics histogram. */
  onBatch: ((events: number, seconds: number) => void) | null = null;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(WRITE_POOL) private readonly pool: Pool,
    private readonly calendar: CalendarService,
    readonly projector: ComplianceProjector,
    @Optional() private readonly sweep?: NotificationSweep,
  ) {}

  /** when this instance's leader last swept for notifications (0: not since it leads) */
  private sweptAt = 0;

  /** The notification sweep, every WEBHOOK_SWEEP_INTERVAL_MS while leading (at once when elected). */
  private async sweepIfDue(): Promise<void> {
    if (!this.sweep || Date.now() - this.sweptAt < this.config.webhooks.sweepIntervalMs) return;
    let r;
    try {
      r = await this.sweep.run();
      this.sweptAt = Date.now();
    } catch (err) {
      // the projection goes on; the sweep is tried again in at most 10 s
      this.sweptAt =
        Date.now() -
        this.config.webhooks.sweepIntervalMs +
        Math.min(10_000, this.config.webhooks.sweepIntervalMs);
      this.logger.error(`notification sweep failed: ${(err as Error).message}`);
      return;
    }
    if (r.decided > 0)
      this.logger.log(
        `notification sweep for ${r.today}: ${r.decided} deliveries decided (deadlines ${r.from}..${r.to})`,
      );
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.calendar.ensureCalendar(this.projector);
    // with no contract projected the first policy apply recomputes nothing: done before
    // listening (a new database, every test); else beside the start
    const { rows } = await this.pool.query<{ any: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM "${LIVE_SCHEMA}".contracts) AS any`,
    );
    if (rows[0].any) this.firstPolicyApply = this.ensurePolicies();
    else await this.calendar.ensurePolicies(this.projector);
    if (!this.config.roles.projector) return;
    this.state = 'standby';
    this.loopDone = this.loop();
  }

  /**
   * The first policy apply (CalendarService.ensurePolicies) on a store with contracts, beside
   * the start rather than before it: on a store projected before layers existed it recomputes
   * every contract. Tried again (backing off to a minute) until it is done or the service
   * stops; the projector leader's tick would also apply it.
   */
  private async ensurePolicies(): Promise<void> {
    let backoff = 1000;
    while (!this.stopped) {
      try {
        const r = await this.calendar.ensurePolicies(this.projector);
        if (r?.outcome === 'applied')
          this.logger.log(
            `policy layers applied for the first time: ${r.contracts} contracts recomputed`,
          );
        if (r?.outcome !== 'busy') return;
      } catch (err) {
        if (this.stopped) return;
        this.logger.error(
          `first policy apply failed, retrying in ${backoff} ms: ${(err as Error).message}`,
        );
      }
      await sleep(backoff);
      backoff = Math.min(backoff * 2, 60_000);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await this.firstPolicyApply;
    await this.loopDone;
    await this.releaseLock();
    if (this.state !== 'disabled') this.state = 'stopped';
  }

  health(): ProjectorHealth {
    const leading = ['running', 'caught-up', 'behind', 'error'].includes(this.state);
    return {
      state: this.state,
      behind: leading ? this.behind : null,
      lastErrorAt: this.lastErrorAt,
    };
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
    const client = await this.pool.connect();
    let ok = false;
    try {
      const { rows } = await client.query<{ ok: boolean }>(
        'SELECT pg_try_advisory_lock(hashtext($1)) AS ok',
        [LOCK_NAME],
      );
      ok = rows[0].ok;
    } catch (err) {
      client.release(true);
      throw err;
    }
    if (!ok) {
      client.release();
      return false;
    }
    this.lockClient = client;
    this.lockLost = false;
    this.sweptAt = 0;
    this.lockCheckedAt = Date.now();
    client.on('error', this.onLockError);
    client.on('end', this.onLockError);
    this.logger.log('leader: projecting');
    return true;
  }

  /**
   * Whether the lock session still holds the lock: at once false when its connection
   * reported an error or ended, else asked on that connection at most every LOCK_CHECK_MS.
   * When not, gives the (dead) connection up and stands by: the next tick re-elects.
   */
  private async stillLeading(): Promise<boolean> {
    const c = this.lockClient;
    if (!c) return false;
    let held = !this.lockLost;
    if (held && Date.now() - this.lockCheckedAt >= LOCK_CHECK_MS) {
      try {
        const { rows } = await c.query<{ held: boolean }>(
          `SELECT EXISTS (SELECT 1 FROM pg_locks
                   WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid()
                     AND objsubid = 1 AND objid = (hashtext($1)::bigint & 4294967295)::oid) AS held`,
          [LOCK_NAME],
        );
        held = rows[0].held;
        this.lockCheckedAt = Date.now();
      } catch {
        held = false;
      }
    }
    if (!held) {
      this.logger.warn('lost the projector lock (its connection ended): re-electing');
      this.lockLost = true;
      await this.releaseLock();
      this.state = 'standby';
    }
    return held;
  }

  private async releaseLock(): Promise<void> {
    const c = this.lockClient;
    const lost = this.lockLost;
    this.lockClient = null;
    if (!c) return;
    c.removeListener('error', this.onLockError);
    c.removeListener('end', this.onLockError);
    if (lost) {
      c.release(true);
      return;
    }
    try {
      await c.query('SELECT pg_advisory_unlock_all()');
      c.release();
    } catch {
      c.release(true);
    }
  }

  /** Events stored beyond the checkpoint, visible or not yet (gap safety), up to the cap. */
  private async countBehind(): Promise<number> {
    const cp = await readCheckpoint(this.pool, PROJECTION_NAME);
    this.position = cp.globalPosition;
    const { rows } = await this.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM (
         SELECT 1 FROM events WHERE (transaction_id, global_position) > ($1::xid8, $2::bigint)
          LIMIT ${LAG_COUNT_CAP}) x`,
      [cp.transactionId, cp.globalPosition],
    );
    this.lagCountedAt = Date.now();
    return rows[0].n;
  }

  private async loop(): Promise<void> {
    const idle = this.config.projector.idleMs;
    const maxBackoff = Math.max(MAX_BACKOFF_MS, idle);
    let backoff = idle;
    while (!this.stopped) {
      try {
        if (this.paused > 0) {
          await sleep(idle);
          continue;
        }
        if (!(await this.tryLock())) {
          this.state = 'standby';
          this.behind = null;
          await sleep(Math.max(1000, idle * 5));
          continue;
        }
        if (!(await this.stillLeading())) continue;
        const applied = await this.calendar.applyIfChanged(this.projector);
        if (applied?.outcome === 'applied')
          this.logger.log(
            `calendar version ${applied.version} applied: years ${applied.years.join(', ') || 'none'} changed, ${applied.contracts} contracts recomputed`,
          );
        const started = performance.now();
        const passing = this.projector.pass(PROJECTION_NAME);
        const n = await this.projector.step(LIVE_TARGET, this.config.projector.batchSize);
        const pass = this.projector.pass(PROJECTION_NAME);
        if (pass && !passing)
          this.logger.log(
            `far behind: catch-up pass over ${pass.streams.length} contracts in stream order`,
          );
        if (passing && !pass) this.logger.log('catch-up pass done: back to the tail');
        if (n === 0) await this.sweepIfDue();
        this.onBatch?.(n, (performance.now() - started) / 1000);
        this.projectedEvents += n;
        if (n === 0 || Date.now() - this.lagCountedAt >= LAG_EVERY_MS)
          this.behind = await this.countBehind();
        this.state = n > 0 ? 'running' : this.behind! > 0 ? 'behind' : 'caught-up';
        this.lastError = null;
        this.lastErrorAt = null;
        backoff = idle;
        if (n === 0) await sleep(idle);
      } catch (err) {
        this.state = 'error';
        this.lastError = (err as Error).message;
        this.lastErrorAt = new Date().toISOString();
        this.logger.error(
          `projection failed, retrying in ${backoff} ms: ${(err as Error).message}`,
        );
        await this.releaseLock(); // the lock's session may be the broken one
        await sleep(backoff);
        backoff = Math.min(backoff * 2, maxBackoff);
      }
    }
  }

  /** Runs steps (catch-up pass chunks, then batches) until nothing is left (tests, CLI). */
  async catchUp(): Promise<number> {
    let total = 0;
    for (;;) {
      await this.calendar.applyIfChanged(this.projector);
      const n = await this.projector.step(LIVE_TARGET, this.config.projector.batchSize);
      total += n;
      if (n === 0) return total;
    }
  }
}
