import { Injectable, Logger } from '@nestjs/common';
import { PgEventStore, withTransaction } from '@app/event-store';
import { CalendarService } from './calendar.service';
import { ComplianceProjector } from './projector';
import { BUILD_SCHEMA, LIVE_SCHEMA, PROJECTION_NAME, readModelDdl } from './read-model-ddl';

export interface RebuildStatus {
  state: 'idle' | 'running' | 'done' | 'failed';
  startedAt: string | null;
  finishedAt: string | null;
  events: number;
  error: string | null;
}

const BUILD_CHECKPOINT = `${PROJECTION_NAME}@rebuild`;

/**
 * Rebuild: project the whole store into a fresh schema while the live read models keep
 * serving, then swap the schemas and hand the live checkpoint over in one transaction.
 * The swap takes the live checkpoint row FOR UPDATE, so it waits for a live batch in flight
 * and the live projector resumes from the rebuilt position afterwards.
 *
 * Calendar: a pending upload is applied first; the calendar lock is then held shared for the
 * run, so the whole build computes with one applied calendar (read from the database, never
 * an instance's boot-time one) and an upload meanwhile is applied once the rebuild is done.
 */
@Injectable()
export class RebuildService {
  private readonly logger = new Logger('Rebuild');
  status: RebuildStatus = {
    state: 'idle',
    startedAt: null,
    finishedAt: null,
    events: 0,
    error: null,
  };
  private running: Promise<RebuildStatus> | null = null;

  constructor(
    private readonly store: PgEventStore,
    private readonly projector: ComplianceProjector,
    private readonly calendar: CalendarService,
  ) {}

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
    const pool = this.store.pool;
    const lock = await pool.connect();
    try {
      const { rows } = await lock.query<{ ok: boolean }>(
        `SELECT pg_try_advisory_lock(hashtext('rebuild:${PROJECTION_NAME}')) AS ok`,
      );
      if (!rows[0].ok) throw new Error('another instance is rebuilding');
      await this.calendar.apply(this.projector, { wait: true });
      await lock.query(`SELECT pg_advisory_lock_shared(hashtext('calendar-table'))`);
      await this.prepare();
      const target = { schema: BUILD_SCHEMA, checkpoint: BUILD_CHECKPOINT };
      for (;;) {
        const n = await this.projector.runBatch(target, batchSize);
        this.status.events += n;
        if (n === 0) break;
      }
      await this.swap();
      this.logger.log(`rebuilt from ${this.status.events} events and switched`);
    } finally {
      await lock.query('SELECT pg_advisory_unlock_all()').catch(() => undefined);
      lock.release();
    }
  }

  private prepare(): Promise<void> {
    return withTransaction(this.store.pool, async (c) => {
      await c.query(`DROP SCHEMA IF EXISTS "${BUILD_SCHEMA}" CASCADE`);
      for (const sql of readModelDdl(BUILD_SCHEMA)) await c.query(sql);
      await c.query('DELETE FROM projection_checkpoints WHERE name = $1', [BUILD_CHECKPOINT]);
    });
  }

  private swap(): Promise<void> {
    return withTransaction(this.store.pool, async (c) => {
      await ComplianceProjector.ensureCheckpoint(c, PROJECTION_NAME);
      await ComplianceProjector.readCheckpoint(c, PROJECTION_NAME, true); // waits for a live batch
      const built = await ComplianceProjector.readCheckpoint(c, BUILD_CHECKPOINT);
      await c.query(`ALTER SCHEMA "${LIVE_SCHEMA}" RENAME TO "${LIVE_SCHEMA}_old"`);
      await c.query(`ALTER SCHEMA "${BUILD_SCHEMA}" RENAME TO "${LIVE_SCHEMA}"`);
      await c.query(`DROP SCHEMA "${LIVE_SCHEMA}_old" CASCADE`);
      await c.query(
        `UPDATE projection_checkpoints SET transaction_id = $2::xid8, global_position = $3, updated_at = now() WHERE name = $1`,
        [PROJECTION_NAME, built.transactionId, built.globalPosition],
      );
      await c.query('DELETE FROM projection_checkpoints WHERE name = $1', [BUILD_CHECKPOINT]);
    });
  }
}
