import {
  assessContract,
  BUILT_IN_POLICIES,
  toFact,
  type PolicyLayer,
  type WorkCalendar,
} from '@app/domain';
import {
  PgEventStore,
  ensureCheckpoint,
  moveCheckpoint,
  readCheckpoint,
  withTransaction,
  type Checkpoint,
  type Sql,
  type EventPosition,
  type StreamFactRow,
} from '@app/event-store';
import type { Pool } from 'pg';
import type { NotificationDecider } from './notifications/notification-decider';
import { LIVE_SCHEMA, PROJECTION_NAME } from './read-model-ddl';
import { replaceReadModels } from './read-model-writer';
import { rowsOf } from './rows';

export interface ProjectionTarget {
  /** schema holding the read models */
  schema: string;
  /** checkpoint row name */
  checkpoint: string;
}

export const LIVE_TARGET: ProjectionTarget = { schema: LIVE_SCHEMA, checkpoint: PROJECTION_NAME };

/**
 * The compliance projector. Each batch: read the store gap-safely after the checkpoint,
 * recompute every touched contract from its whole history (so results never depend on
 * arrival order), replace its read-model rows, and move the checkpoint with a
 * compare-and-set — all in one transaction, so a crash at any point replays the batch and
 * the replay is idempotent.
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
  ) {}

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
    const history = await this.store.readStreamFacts(c, contractIds);
    const byStream = new Map<string, StreamFactRow[]>();
    for (const e of history) {
      let list = byStream.get(e.streamId);
      if (!list) byStream.set(e.streamId, (list = []));
      list.push(e);
    }
    const rows = {
      contracts: [] as object[],
      obligations: [] as object[],
      invoices: [] as object[],
      payments: [] as object[],
      allocations: [] as object[],
    };
    for (const [streamId, events] of byStream) {
      const facts = events.map((e) =>
        toFact({
          eventId: e.eventId,
          type: e.type,
          occurredAt: e.occurredAtMs,
          data: e.data,
          seq: Number(e.globalPosition),
        }),
      );
      const r = rowsOf(
        assessContract(streamId, facts, cal, undefined, layers),
        events[events.length - 1].streamVersion,
      );
      rows.contracts.push(r.contract);
      for (const o of r.obligations) rows.obligations.push(o);
      for (const i of r.invoices) rows.invoices.push(i);
      for (const p of r.payments) rows.payments.push(p);
      for (const a of r.allocations) rows.allocations.push(a);
    }
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
