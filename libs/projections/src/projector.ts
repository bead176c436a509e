import {
  assessContract,
  BUILT_IN_POLICIES,
  type PolicyLayer,
  type WorkCalendar,
} from '@app/domain';
import {
  PgEventStore,
  ensureCheckpoint,
  moveCheckpoint,
  readCheckpoint,
  withTransaction,
  START,
  type Checkpoint,
  type Sql,
  type EventPosition,
  type StreamFactRow,
} from '@app/event-store';
import type { Pool } from 'pg';
import type { NotificationDecider } from './notifications/notification-decider';
import { LIVE_SCHEMA, PROJECTION_NAME } from './read-model-ddl';
import { analyzeReadModels, replaceReadModels, type ReadModelTable } from './read-model-writer';
import { rowsOf } from './rows';
import { factOfRow } from './stream-fact';

export interface ProjectionTarget {
  /** schema holding the read models */
  schema: string;
  /** checkpoint row name */
  checkpoint: string;
}

export const LIVE_TARGET: ProjectionTarget = { schema: LIVE_SCHEMA, checkpoint: PROJECTION_NAME };

/**
 * From how many events behind its checkpoint (stored, visible or not) the projector takes the
 * stream-ordered catch-up pass instead of batches in the global order; always from START.
 * At 5,000 events a batch, 20 batches: from there an interleaved feed makes the batches
 * recompute many of the same contracts again and again.
 */
export const CATCH_UP_LAG = 100_000;

/**
 * A catch-up pass refreshes the read models' statistics (analyzeReadModels) once it has
 * projected this many events, then each time it has doubled them (a quick sample of 3,000
 * rows a table), and at its end (the full sample of 30,000): about log2(events / 100,000) + 1
 * ANALYZEs, less one where a doubling falls within the last fifth of the pass. Without them,
 * a pass into tables never analyzed (a first start, a reset, with autovacuum off or not yet
 * come by) decided each chunk's notifications with a scan of the whole obligations table: at 1 M contracts the pass with subscriptions ran over three times
 * as long, each chunk slower than the one before (session 11, docs/benchmarks.md).
 */
export const ANALYZE_FIRST_AT = 100_000;

/**
 * A catch-up pass in progress: every contract with events in (from, head], walked in
 * stream_id order, `done` of them projected so far. Held in memory only: a process that dies
 * leaves the checkpoint at `from`, and the next pass starts over (see ComplianceProjector.step).
 */
export interface CatchUpPass {
  readonly from: Checkpoint;
  /**
   * The checkpoint row's version when the pass began (its `xmin`: the transaction that last
   * wrote it). Any move, and a row deleted and created again (a rebuild started over, a
   * reset), changes it; the chunks only lock the row, which leaves it as it is.
   */
  readonly version: string;
  /** the gap-safe head when the pass began: no event at or before it can still appear */
  readonly head: Checkpoint;
  /** contracts with events in (from, head], in stream_id order */
  readonly streams: readonly string[];
  /** how many of each contract's events lie in (from, head] */
  readonly counts: readonly number[];
  /** the sum of `counts`: the pass's events */
  readonly total: number;
  done: number;
  /** events of the pass projected so far, and when the read models were last analyzed */
  events: number;
  analyzedAt: number;
  /** the next chunk, read and assessed while the current one is written (see passChunk) */
  ahead?: ChunkAhead;
}

/**
 * A chunk's read-model rows computed ahead of its transaction, on another connection, with
 * the calendar and layers the previous chunk's transaction held. Its transaction uses them
 * only if it holds the same calendar and layers (the same objects: CalendarService and
 * PolicyService hand out one per applied fingerprint); else it computes them itself.
 */
interface ChunkAhead {
  readonly start: number;
  readonly end: number;
  readonly calendar: WorkCalendar;
  readonly layers: readonly PolicyLayer[];
  /** null when the read failed: the chunk's transaction reads and assesses itself */
  readonly rows: Promise<ReadModelRows | null>;
}

type ReadModelRows = Record<ReadModelTable, object[]>;

/** Longest stretch of assessment between two yields while a chunk is assessed ahead. */
const AHEAD_SLICE_MS = 5;

/**
 * The compliance projector. Each batch: read the store gap-safely after the checkpoint,
 * recompute every touched contract from its whole history (so results never depend on
 * arrival order), replace its read-model rows, and move the checkpoint with a
 * compare-and-set — all in one transaction, so a crash at any point replays the batch and
 * the replay is idempotent. Far behind, `step` takes a stream-ordered catch-up pass instead
 * (each contract read and assessed once; see beginPass and passChunk), then the batches.
 */
export class ComplianceProjector {
  constructor(
    private readonly pool: Pool,
    private readonly store: PgEventStore,
    /**
     * The calendar to compute with, asked once per recompute in its transaction (the
     * application's takes the calendar lock shared there: see CalendarService.forTransaction).
     */
    private readonly calendar: (c: Sql) => WorkCalendar | Promise<WorkCalendar>,
    /**
     * The policy layers to compute with, asked after the calendar in the same transaction
     * (the application's reads the applied ones: PolicyService.applied).
     */
    private readonly policies: (
      c: Sql,
    ) => readonly PolicyLayer[] | Promise<readonly PolicyLayer[]> = () => BUILT_IN_POLICIES,
    /**
     * Decides the notifications of the recomputed contracts into the outbox, in the same
     * transaction as their read models (SPEC §8); none without it.
     */
    private readonly notifications?: NotificationDecider,
    private readonly options: { catchUpLag?: number; analyzeFirstAt?: number } = {},
  ) {}

  private readonly passes = new Map<string, CatchUpPass>();

  /** The catch-up pass in progress for this checkpoint, if any. */
  pass(checkpoint: string): Readonly<CatchUpPass> | undefined {
    return this.passes.get(checkpoint);
  }

  /**
   * One step of projection: a chunk of the catch-up pass when one is in progress or the
   * checkpoint is far behind (START, or CATCH_UP_LAG events), else one batch of the tail
   * (runBatch). Returns the number of events consumed (0 when caught up): a chunk counts the
   * events of its contracts in (from, head], so the steps of a pass add up to its events.
   */
  async step(target: ProjectionTarget, batchSize: number): Promise<number> {
    let pass = this.passes.get(target.checkpoint);
    if (!pass) {
      pass = await this.beginPass(target);
      if (!pass) return this.runBatch(target, batchSize);
      this.passes.set(target.checkpoint, pass);
    }
    const n = await this.passChunk(target, pass, batchSize);
    if (n !== null) return n;
    // the checkpoint moved under the pass (a rebuild's swap, another leader): start afresh
    this.passes.delete(target.checkpoint);
    return this.step(target, batchSize);
  }

  /**
   * Starts a catch-up pass when the checkpoint is far behind: takes the gap-safe head H (the
   * last event of a transaction older than every one still running, as readAll sees it) and
   * the contracts with events in (checkpoint, H]. Nothing can later appear at or before H, so
   * that set is fixed; whatever is stored after H is the tail's.
   */
  private beginPass(target: ProjectionTarget): Promise<CatchUpPass | undefined> {
    return withTransaction(this.pool, async (c) => {
      await ensureCheckpoint(c, target.checkpoint);
      const { from, version } = await checkpointRow(c, target.checkpoint, false);
      const lag = this.options.catchUpLag ?? CATCH_UP_LAG;
      if (
        from.transactionId !== START.transactionId ||
        from.globalPosition !== START.globalPosition
      ) {
        const { rows } = await c.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM (
             SELECT 1 FROM events WHERE (transaction_id, global_position) > ($1::xid8, $2::bigint) LIMIT ${lag}) x`,
          [from.transactionId, from.globalPosition],
        );
        if (rows[0].n < lag) return undefined;
      }
      const { rows: heads } = await c.query<{ transaction_id: string; global_position: string }>(
        `SELECT transaction_id::text AS transaction_id, global_position::text AS global_position
           FROM events
          WHERE (transaction_id, global_position) > ($1::xid8, $2::bigint)
            AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
          ORDER BY events.transaction_id DESC, events.global_position DESC
          LIMIT 1`,
        [from.transactionId, from.globalPosition],
      );
      if (heads.length === 0) return undefined;
      const head = {
        transactionId: heads[0].transaction_id,
        globalPosition: heads[0].global_position,
      };
      const { rows } = await c.query<{ stream_id: string; n: number }>(
        `SELECT stream_id, count(*)::int AS n FROM events
          WHERE (transaction_id, global_position) > ($1::xid8, $2::bigint)
            AND (transaction_id, global_position) <= ($3::xid8, $4::bigint)
          GROUP BY stream_id ORDER BY stream_id`,
        [from.transactionId, from.globalPosition, head.transactionId, head.globalPosition],
      );
      return {
        from,
        version,
        head,
        streams: rows.map((r) => r.stream_id),
        counts: rows.map((r) => r.n),
        total: rows.reduce((sum, r) => sum + r.n, 0),
        done: 0,
        events: 0,
        analyzedAt: 0,
      };
    });
  }

  /**
   * Projects the pass's next contracts (about `batchSize` of their events in the pass) from
   * their whole histories, as the tail recomputes a contract, in one transaction that holds
   * the checkpoint row; the last chunk moves the checkpoint to the pass's head in that same
   * transaction. Returns null, writing nothing, when the checkpoint is no longer the pass's.
   *
   * The chunk after this one is read and assessed meanwhile, on another connection, while
   * this transaction writes (Node assesses while PostgreSQL writes: two CPUs). Reading a
   * contract's history outside the transaction reads what it would read inside: every event
   * up to the head was committed before the pass began, later ones are the tail's.
   *
   * Each chunk replaces its contracts' rows whole and decides their notifications once (the
   * outbox's key), so a chunk done again — after a failure, or by a pass started over after a
   * crash — changes nothing. A contract's whole history may reach beyond the head (its later
   * events committed meanwhile): its read model then says so (stream_version), and the tail,
   * handed those events after the head, skips it as already current.
   */
  private passChunk(
    target: ProjectionTarget,
    pass: CatchUpPass,
    batchSize: number,
  ): Promise<number | null> {
    const ahead = pass.ahead;
    pass.ahead = undefined;
    // awaited before this transaction takes a connection: with a pool of one, the read
    // ahead needs that connection
    return (ahead ? ahead.rows : Promise.resolve(null))
      .then((aheadRows) => this.chunkTransaction(target, pass, batchSize, ahead, aheadRows))
      .then(async (r) => {
        if (r === null) return null;
        pass.done = r.end;
        pass.events += r.events;
        if (r.last) this.passes.delete(target.checkpoint);
        const first = this.options.analyzeFirstAt ?? ANALYZE_FIRST_AT;
        const due = pass.events >= Math.max(first, 2 * pass.analyzedAt);
        // not when the pass ends within a quarter of what it has projected: its end is near,
        // and takes the full sample (at the small scale that skipped one of three ANALYZEs)
        const endsSoon = 4 * (pass.total - pass.events) < pass.events;
        if (r.last || (due && !endsSoon)) {
          const quick = !r.last;
          await withTransaction(this.pool, (c) => analyzeReadModels(c, target.schema, quick));
          pass.analyzedAt = pass.events;
        }
        return r.events;
      });
  }

  private chunkTransaction(
    target: ProjectionTarget,
    pass: CatchUpPass,
    batchSize: number,
    ahead: ChunkAhead | undefined,
    aheadRows: ReadModelRows | null,
  ): Promise<{ events: number; end: number; last: boolean } | null> {
    return withTransaction(this.pool, async (c) => {
      await c.query(`SET LOCAL work_mem = '64MB'`);
      const { version } = await checkpointRow(c, target.checkpoint, true);
      if (version !== pass.version) return null;
      const end = chunkEnd(pass, pass.done, batchSize);
      const events = pass.counts.slice(pass.done, end).reduce((a, b) => a + b, 0);
      const ids = pass.streams.slice(pass.done, end);
      const { rows } = await c.query<{ contract_id: string }>(
        `SELECT contract_id FROM "${target.schema}".contracts WHERE contract_id = ANY($1::text[])`,
        [ids],
      );
      const cal = await this.calendar(c);
      const layers = await this.policies(c);
      pass.ahead =
        end < pass.streams.length
          ? this.assessAhead(end, chunkEnd(pass, end, batchSize), pass, cal, layers)
          : undefined;
      const prepared =
        ahead?.start === pass.done &&
        ahead.end === end &&
        ahead.calendar === cal &&
        ahead.layers === layers
          ? aheadRows
          : null;
      const modelRows =
        prepared ?? assessHistories(await this.store.readStreamFacts(c, ids), cal, layers);
      const projected = new Set(rows.map((r) => r.contract_id));
      await this.write(
        c,
        target.schema,
        ids,
        ids.filter((id) => projected.has(id)),
        modelRows,
      );
      const last = end === pass.streams.length;
      if (last) await moveCheckpoint(c, target.checkpoint, pass.head, pass.from);
      return { events, end, last };
    });
  }

  /** Reads and assesses the pass's contracts [start, end) on a connection of its own. */
  private assessAhead(
    start: number,
    end: number,
    pass: CatchUpPass,
    calendar: WorkCalendar,
    layers: readonly PolicyLayer[],
  ): ChunkAhead {
    const rows = withTransaction(this.pool, async (c) => {
      await c.query(`SET LOCAL work_mem = '64MB'`); // as in the chunk's own transaction
      return this.store.readStreamFacts(c, pass.streams.slice(start, end));
    })
      .then((history) => assessHistoriesInSlices(history, calendar, layers))
      .catch(() => null);
    return { start, end, calendar, layers, rows };
  }

  /** Projects one batch. Returns the number of events consumed (0 when caught up). */
  runBatch(target: ProjectionTarget, batchSize: number): Promise<number> {
    return withTransaction(this.pool, async (client) => {
      // the histories of a batch's contracts are scattered over the table: with the default
      // 4 MB the bitmap scan goes lossy and the sort spills at a few million events
      await client.query(`SET LOCAL work_mem = '64MB'`);
      await ensureCheckpoint(client, target.checkpoint);
      const from = await readCheckpoint(client, target.checkpoint, true);
      const events = await this.store.readAllPositions(client, from, batchSize);
      if (events.length === 0) return 0;
      const { stale, projected } = await this.stale(client, target.schema, events);
      await this.recompute(client, target.schema, stale, projected);
      const last = events[events.length - 1];
      await moveCheckpoint(client, target.checkpoint, last, from);
      return events.length;
    });
  }

  /**
   * The contracts of a batch whose read model does not yet reflect the batch. A recompute
   * reads the whole stream, so it may already have included events that a later batch
   * delivers (catch-up of an interleaved feed): skipping those contracts keeps catch-up at
   * about one recompute per contract instead of one per batch that touches it.
   */
  private async stale(
    c: Sql,
    schema: string,
    events: EventPosition[],
  ): Promise<{ stale: string[]; projected: Set<string> }> {
    const newest = new Map<string, number>();
    for (const e of events)
      newest.set(e.streamId, Math.max(newest.get(e.streamId) ?? 0, e.streamVersion));
    const { rows } = await c.query<{ contract_id: string; stream_version: number }>(
      `SELECT contract_id, stream_version FROM "${schema}".contracts WHERE contract_id = ANY($1::text[])`,
      [[...newest.keys()]],
    );
    const projected = new Set<string>();
    for (const r of rows) {
      projected.add(r.contract_id);
      if (r.stream_version >= newest.get(r.contract_id)!) newest.delete(r.contract_id);
    }
    return { stale: [...newest.keys()], projected };
  }

  /**
   * Recomputes the given contracts from their whole histories, in the caller's transaction.
   * `projected`, when given, holds those of them that have read-model rows (every projected
   * contract has its rm.contracts row): the others have nothing to delete.
   */
  async recompute(
    c: Sql,
    schema: string,
    contractIds: string[],
    projected?: ReadonlySet<string>,
  ): Promise<void> {
    if (contractIds.length === 0) return;
    const cal = await this.calendar(c);
    const layers = await this.policies(c);
    const replaced = projected ? contractIds.filter((id) => projected.has(id)) : contractIds;
    const rows = assessHistories(await this.store.readStreamFacts(c, contractIds), cal, layers);
    await this.write(c, schema, contractIds, replaced, rows);
  }

  /** Replaces the contracts' read models with `rows`, then what follows from them. */
  private async write(
    c: Sql,
    schema: string,
    contractIds: string[],
    replaced: readonly string[],
    rows: ReadModelRows,
  ): Promise<void> {
    await replaceReadModels(c, schema, replaced, rows);
    const q = `"${schema}"`;
    await c.query(`UPDATE ${q}.summary_state SET version = pg_current_xact_id()::text`);
    await this.notifications?.decide(c, schema, { contractIds });
  }

  /** How far behind the head of the store a checkpoint is. */
  async lag(
    name: string,
  ): Promise<{ checkpoint: Checkpoint; headPosition: string; behind: number }> {
    const checkpoint = await readCheckpoint(this.pool, name);
    const { rows } = await this.pool.query<{ head: string | null; behind: string }>(
      `SELECT (SELECT max(global_position) FROM events)::text AS head,
              (SELECT count(*) FROM events WHERE (transaction_id, global_position) > ($1::xid8, $2::bigint))::text AS behind`,
      [checkpoint.transactionId, checkpoint.globalPosition],
    );
    return { checkpoint, headPosition: rows[0].head ?? '0', behind: Number(rows[0].behind) };
  }
}

/** The checkpoint and its row's version (see CatchUpPass.version); `lock`: FOR UPDATE. */
async function checkpointRow(
  c: Sql,
  name: string,
  lock: boolean,
): Promise<{ from: Checkpoint; version: string }> {
  const { rows } = await c.query<{
    transaction_id: string;
    global_position: string;
    version: string;
  }>(
    `SELECT transaction_id::text, global_position::text, xmin::text AS version
       FROM projection_checkpoints WHERE name = $1${lock ? ' FOR UPDATE' : ''}`,
    [name],
  );
  if (!rows[0]) return { from: START, version: '' };
  const r = rows[0];
  return {
    from: { transactionId: r.transaction_id, globalPosition: r.global_position },
    version: r.version,
  };
}

/** The end (exclusive) of the chunk of the pass that starts at `start`: about `batchSize` events. */
function chunkEnd(pass: CatchUpPass, start: number, batchSize: number): number {
  let end = start;
  let events = 0;
  while (end < pass.streams.length && (end === start || events < batchSize))
    events += pass.counts[end++];
  return end;
}

/** The histories (stream by stream, in stream_version order) grouped by stream. */
function byStream(history: StreamFactRow[]): Map<string, StreamFactRow[]> {
  const out = new Map<string, StreamFactRow[]>();
  for (const e of history) {
    let list = out.get(e.streamId);
    if (!list) out.set(e.streamId, (list = []));
    list.push(e);
  }
  return out;
}

function emptyRows(): ReadModelRows {
  return { contracts: [], obligations: [], invoices: [], payments: [], allocations: [] };
}

/** Assesses one contract from its whole history and adds its read-model rows to `rows`. */
function addContract(
  rows: ReadModelRows,
  streamId: string,
  events: StreamFactRow[],
  cal: WorkCalendar,
  layers: readonly PolicyLayer[],
): void {
  const r = rowsOf(
    assessContract(streamId, events.map(factOfRow), cal, undefined, layers),
    events[events.length - 1].streamVersion,
  );
  rows.contracts.push(r.contract);
  for (const o of r.obligations) rows.obligations.push(o);
  for (const i of r.invoices) rows.invoices.push(i);
  for (const p of r.payments) rows.payments.push(p);
  for (const a of r.allocations) rows.allocations.push(a);
}

/** The read-model rows of every contract of `history`. */
function assessHistories(
  history: StreamFactRow[],
  cal: WorkCalendar,
  layers: readonly PolicyLayer[],
): ReadModelRows {
  const rows = emptyRows();
  for (const [streamId, events] of byStream(history))
    addContract(rows, streamId, events, cal, layers);
  return rows;
}

/**
 * assessHistories, yielding to the event loop every AHEAD_SLICE_MS: the transaction writing
 * the previous chunk on this process gets each statement's answer without waiting for the
 * whole assessment.
 */
async function assessHistoriesInSlices(
  history: StreamFactRow[],
  cal: WorkCalendar,
  layers: readonly PolicyLayer[],
): Promise<ReadModelRows> {
  const rows = emptyRows();
  let slice = Date.now();
  for (const [streamId, events] of byStream(history)) {
    addContract(rows, streamId, events, cal, layers);
    if (Date.now() - slice >= AHEAD_SLICE_MS) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      slice = Date.now();
    }
  }
  return rows;
}
