import { hostname } from 'node:os';
import { Inject, Injectable, Logger, Optional, type OnApplicationBootstrap } from '@nestjs/common';
import {
  deleteCheckpoint,
  ensureCheckpoint,
  moveCheckpoint,
  readCheckpoint,
  withTransaction,
  WRITE_POOL,
} from '@app/event-store';
import type { Pool, PoolClient } from 'pg';
import { CalendarService } from './calendar.service';
import { PolicyService } from './policy.service';
import { ComplianceProjector } from './projector';
import { BUILD_SCHEMA, LIVE_SCHEMA, PROJECTION_NAME, readModelDdl } from './read-model-ddl';
import { RULES_LOCK } from './rules-lock';

export interface RebuildStatus {
  state: 'idle' | 'running' | 'done' | 'failed';
  startedAt: string | null;
  finishedAt: string | null;
  events: number;
  error: string | null;
}

const BUILD_CHECKPOINT = `${PROJECTION_NAME}@rebuild`;
const REBUILD_LOCK = `rebuild:${PROJECTION_NAME}`;
export const REBUILD_INTERRUPTED =
  'interrupted: the process running the rebuild stopped before it finished';

/**
 * Rebuild: project the whole store into a fresh schema while the live read models keep
 * serving, then swap the schemas and hand the live checkpoint over in one transaction.
 * The swap takes the live checkpoint row FOR UPDATE, so it waits for a live batch in flight
 * and the live projector resumes from the rebuilt position afterwards.
 *
 * The rebuild's state is kept in `projection_rebuilds` (whichever instance asks sees it), and
 * its owner holds a session advisory lock for the whole run: a row still `running` while
 * nobody holds that lock belongs to a process that died, and is marked failed (and the build
 * schema dropped) at the next start or the next status read.
 *
 * Calendar: a pending upload is applied first; the calendar lock is then held shared for the
 * run, so the whole build computes with one applied calendar (read from the database, never
 * an instance's boot-time one) and an upload meanwhile is applied once the rebuild is done.
 * Policy layers the same way (the same lock): a pending change is applied first, one made
 * meanwhile once the rebuild is done.
 */
@Injectable()
export class RebuildService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Rebuild');
  /** this instance's latest run */
  status: RebuildStatus = {
    state: 'idle',
    startedAt: null,
    finishedAt: null,
    events: 0,
    error: null,
  };
  private running: Promise<RebuildStatus> | null = null;

  constructor(
    @Inject(WRITE_POOL) private readonly pool: Pool,
    private readonly projector: ComplianceProjector,
    private readonly calendar: CalendarService,
    @Optional() private readonly policies?: PolicyService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.recoverInterrupted(true);
  }

  /** The latest rebuild of the projection, wherever it ran. */
  async report(): Promise<RebuildStatus> {
    await this.recoverInterrupted(false);
    const { rows } = await this.pool.query<{
      state: RebuildStatus['state'];
      started_at: Date;
      finished_at: Date | null;
      events: string;
      error: string | null;
    }>(
      'SELECT state, started_at, finished_at, events::text, error FROM projection_rebuilds WHERE name = $1',
      [PROJECTION_NAME],
    );
    const r = rows[0];
    if (!r) return this.status;
    return {
      state: r.state,
      startedAt: r.started_at.toISOString(),
      finishedAt: r.finished_at?.toISOString() ?? null,
      events: Number(r.events),
      error: r.error,
    };
  }

  /**
   * A rebuild recorded as running whose owner is gone (the rebuild lock is free) is marked
   * failed and its leftovers (build schema, build checkpoint) dropped. At boot the leftovers
   * are dropped whenever nobody is rebuilding.
   */
  async recoverInterrupted(atBoot: boolean): Promise<void> {
    if (this.running) return;
    const pool = this.pool;
    if (!atBoot) {
      const { rows } = await pool.query(
        `SELECT 1 FROM projection_rebuilds WHERE name = $1 AND state = 'running'`,
        [PROJECTION_NAME],
      );
      if (rows.length === 0) return;
    }
    const c = await pool.connect();
    // a connection that may still hold the lock never goes back to the pool
    let broken = true;
    try {
      const { rows } = await c.query<{ ok: boolean }>(
        'SELECT pg_try_advisory_lock(hashtext($1)) AS ok',
        [REBUILD_LOCK],
      );
      broken = false;
      if (!rows[0].ok) return; // a rebuild is running somewhere
      broken = true;
      try {
        await c.query('BEGIN');
        const marked = await c.query(
          `UPDATE projection_rebuilds SET state = 'failed', finished_at = now(), error = $2
            WHERE name = $1 AND state = 'running'`,
          [PROJECTION_NAME, REBUILD_INTERRUPTED],
        );
        if (marked.rowCount || atBoot) await this.dropLeftovers(c);
        await c.query('COMMIT');
        if (marked.rowCount)
          this.logger.warn('an interrupted rebuild was marked failed and its tables dropped');
      } catch (err) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        await c.query('SELECT pg_advisory_unlock(hashtext($1))', [REBUILD_LOCK]);
        broken = false;
      }
    } finally {
      c.release(broken);
    }
  }

  private async dropLeftovers(c: Pick<PoolClient, 'query'>): Promise<void> {
    await c.query(`DROP SCHEMA IF EXISTS "${BUILD_SCHEMA}" CASCADE`);
    await deleteCheckpoint(c, BUILD_CHECKPOINT);
  }

  /** Starts a rebuild (or joins the one running) and returns its completion. */
  start(batchSize = 2000): Promise<RebuildStatus> {
    if (this.running) return this.running;
    this.status = {
      state: 'running',
      startedAt: new Date().toISOString(),
      finishedAt: null,
      events: 0,
      error: null,
    };
    this.running = this.run(batchSize)
      .then(() => {
        this.status = { ...this.status, state: 'done', finishedAt: new Date().toISOString() };
        return this.status;
      })
      .catch((err: Error) => {
        this.logger.error(`rebuild failed: ${err.message}`);
        this.status = {
          ...this.status,
          state: 'failed',
          finishedAt: new Date().toISOString(),
          error: err.message,
        };
        return this.status;
      })
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  private async run(batchSize: number): Promise<void> {
    const pool = this.pool;
    const lock = await pool.connect();
    try {
      const { rows } = await lock.query<{ ok: boolean }>(
        'SELECT pg_try_advisory_lock(hashtext($1)) AS ok',
        [REBUILD_LOCK],
      );
      if (!rows[0].ok) throw new Error('another instance is rebuilding');
      await lock.query(
        `INSERT INTO projection_rebuilds (name, state, started_at, events, owner)
         VALUES ($1, 'running', $2, 0, $3)
         ON CONFLICT (name) DO UPDATE SET state = 'running', started_at = excluded.started_at,
           finished_at = NULL, events = 0, error = NULL, owner = excluded.owner`,
        [PROJECTION_NAME, this.status.startedAt, `${hostname()} pid ${process.pid}`],
      );
      try {
        await this.calendar.apply(this.projector, { wait: true });
        await this.policies?.apply(this.projector, { wait: true });
        await lock.query(`SELECT pg_advisory_lock_shared(${RULES_LOCK})`);
        await this.prepare();
        const target = { schema: BUILD_SCHEMA, checkpoint: BUILD_CHECKPOINT };
        for (;;) {
          const n = await this.projector.step(target, batchSize);
          this.status.events += n;
          await lock.query('UPDATE projection_rebuilds SET events = $2 WHERE name = $1', [
            PROJECTION_NAME,
            this.status.events,
          ]);
          if (n === 0) break;
        }
        await this.swap();
        await lock.query(
          `UPDATE projection_rebuilds SET state = 'done', finished_at = now(), events = $2 WHERE name = $1`,
          [PROJECTION_NAME, this.status.events],
        );
        this.logger.log(`rebuilt from ${this.status.events} events and switched`);
      } catch (err) {
        // if this fails too (the connection is gone), the row stays `running` with the lock
        // free: recoverInterrupted marks it failed
        await lock
          .query(
            `UPDATE projection_rebuilds SET state = 'failed', finished_at = now(), events = $2, error = $3
              WHERE name = $1`,
            [PROJECTION_NAME, this.status.events, (err as Error).message],
          )
          .catch(() => undefined);
        await withTransaction(pool, (c) => this.dropLeftovers(c)).catch(() => undefined);
        throw err;
      }
    } finally {
      // a connection that may still hold the locks never goes back to the pool
      const unlocked = await lock.query('SELECT pg_advisory_unlock_all()').then(
        () => true,
        () => false,
      );
      lock.release(!unlocked);
    }
  }

  private prepare(): Promise<void> {
    return withTransaction(this.pool, async (c) => {
      await this.dropLeftovers(c);
      for (const sql of readModelDdl(BUILD_SCHEMA)) await c.query(sql);
    });
  }

  private swap(): Promise<void> {
    return withTransaction(this.pool, async (c) => {
      await ensureCheckpoint(c, PROJECTION_NAME);
      await readCheckpoint(c, PROJECTION_NAME, true); // waits for a live batch
      const built = await readCheckpoint(c, BUILD_CHECKPOINT);
      await c.query(`ALTER SCHEMA "${LIVE_SCHEMA}" RENAME TO "${LIVE_SCHEMA}_old"`);
      await c.query(`ALTER SCHEMA "${BUILD_SCHEMA}" RENAME TO "${LIVE_SCHEMA}"`);
      await c.query(`DROP SCHEMA "${LIVE_SCHEMA}_old" CASCADE`);
      await moveCheckpoint(c, PROJECTION_NAME, built);
      await deleteCheckpoint(c, BUILD_CHECKPOINT);
    });
  }
}
