import { Logger, Optional } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { ErrorCodes, parseEnvelope, type ValidatedEvent } from '@app/contracts';
import {
  DECISION_FIELDS,
  decideBatch,
  emptyDecisionState,
  evolveInPlace,
  retractionTargets,
  type BatchFact,
  type DecisionOrigin,
  type DecisionState,
} from '@app/domain';
import {
  DuplicateEventIdRace,
  PgEventStore,
  isDataError,
  isTransientConflict,
  type RejectedEventRow,
  type Sql,
  type StreamAppend,
} from '@app/event-store';
import { Clock, ServiceUnavailable, backoffMs } from '@app/platform';
import { IngestionMetrics } from './ingestion-metrics';
import { yieldToEventLoop } from './json-body';
import { RecordEventsCommand, type IngestItem, type IngestOutcome } from './record-events.command';

/** Rounds of reload-and-retry for streams that lost an optimistic-concurrency race. */
const MAX_ROUNDS = 20;
/** Events validated between two yields to the event loop (a 1,000-event body must not stall it). */
const PARSE_SLICE = 100;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A valid event of the batch, not repeated within it, waiting for its decision. */
interface Pending extends BatchFact {
  index: number;
  event: ValidatedEvent;
  item: IngestItem;
}

/** What one round decided, and which contracts lost a race and must be decided again. */
interface RoundResult {
  outcomes: Map<number, IngestOutcome>;
  conflicted: Set<string>;
}

/**
 * RecordEventsCommand, in named steps: parse (validate, drop repeats within the batch) →
 * rounds of [dedupe against the store → load the touched histories → decideBatch (pure, in
 * libs/domain) → append with optimistic concurrency + keep the rejections], one transaction
 * each, until no contract lost a race → outcomes in batch order.
 */
@CommandHandler(RecordEventsCommand)
export class RecordEventsHandler implements ICommandHandler<RecordEventsCommand> {
  private readonly logger = new Logger(RecordEventsHandler.name);

  constructor(
    private readonly store: PgEventStore,
    private readonly clock: Clock,
    /** absent where tests and benchmarks construct the handler themselves */
    @Optional() private readonly metrics?: IngestionMetrics,
  ) {}

  async execute(cmd: RecordEventsCommand): Promise<IngestOutcome[]> {
    const outcomes: IngestOutcome[] = new Array(cmd.items.length);
    const { pending, rejections } = await this.parse(cmd.items, this.clock.now(), outcomes);
    await this.record(cmd.origin, pending, rejections, outcomes);
    this.metrics?.record(cmd.items, outcomes);
    return outcomes;
  }

  /** Validates every item (yielding now and then) and drops repeats within the batch. */
  private async parse(
    items: IngestItem[],
    now: number,
    outcomes: IngestOutcome[],
  ): Promise<{ pending: Pending[]; rejections: RejectedEventRow[] }> {
    const pending: Pending[] = [];
    const rejections: RejectedEventRow[] = [];
    const seen = new Set<string>();
    for (let index = 0; index < items.length; index++) {
      if (index > 0 && index % PARSE_SLICE === 0) await yieldToEventLoop();
      const item = items[index];
      const parsed = parseEnvelope(item.raw, now);
      if (!parsed.ok) {
        outcomes[index] = {
          eventId: parsed.eventId ?? null,
          status: 'rejected',
          code: parsed.code,
          message: parsed.message,
          errors: parsed.errors,
        };
        const raw = item.raw as Record<string, unknown> | null;
        rejections.push({
          eventId: parsed.eventId,
          contractId: typeof raw?.contractId === 'string' ? raw.contractId : null,
          type: typeof raw?.type === 'string' ? raw.type : null,
          code: parsed.code,
          message: parsed.message,
          errors: parsed.errors,
          payload: item.raw,
          source: item.source,
        });
        continue;
      }
      const e = parsed.event;
      if (seen.has(e.eventId)) {
        outcomes[index] = { eventId: e.eventId, status: 'duplicate' };
        continue;
      }
      seen.add(e.eventId);
      pending.push({
        index,
        event: e,
        item,
        eventId: e.eventId,
        type: e.type,
        contractId: e.contractId,
        data: e.data,
        platformId: item.source.platformId,
      });
    }
    return { pending, rejections };
  }

  /**
   * Appends `pending` and keeps `rejections`. When the database refuses some content that
   * passed validation (a data error: it would fail again however often it is retried), the
   * events are tried in halves until the one it refuses is alone; that one is rejected with
   * EVENT.UNSTORABLE and kept for audit, its neighbours are decided as usual.
   */
  private async record(
    origin: DecisionOrigin,
    pending: Pending[],
    rejections: RejectedEventRow[],
    outcomes: IngestOutcome[],
  ): Promise<void> {
    try {
      await this.appendWithRetries(origin, pending, rejections, outcomes);
      return;
    } catch (err) {
      if (!isDataError(err)) throw err;
      // only the SQLSTATE: the database's message can quote the refused value (event content)
      this.logger.warn(
        `the database refused a batch's content: SQLSTATE ${String((err as { code?: unknown }).code)}`,
      );
      const open = pending.filter((p) => outcomes[p.index] === undefined);
      if (rejections.length > 0) {
        // the rejections apart (they are escaped and capped: this should not fail again)
        await this.store.transaction((c) => this.store.recordRejections(c, rejections));
        return this.record(origin, open, [], outcomes);
      }
      if (open.length === 1) return this.rejectUnstorable(open[0], err as Error, outcomes);
      const half = Math.ceil(open.length / 2);
      await this.record(origin, open.slice(0, half), [], outcomes);
      await this.record(origin, open.slice(half), [], outcomes);
    }
  }

  private async rejectUnstorable(p: Pending, err: Error, outcomes: IngestOutcome[]) {
    const message = `the database cannot store this event: ${err.message.slice(0, 200)}`;
    await this.store.transaction((c) =>
      this.store.recordRejections(c, [
        {
          eventId: p.eventId,
          contractId: p.contractId,
          type: p.type,
          code: ErrorCodes.UNSTORABLE,
          message,
          errors: [],
          payload: p.item.raw,
          source: p.item.source,
        },
      ]),
    );
    outcomes[p.index] = {
      eventId: p.eventId,
      status: 'rejected',
      code: ErrorCodes.UNSTORABLE,
      message,
      errors: [],
    };
  }

  /**
   * Rounds until every pending event has its outcome: contracts that lost an
   * optimistic-concurrency race (or a deadlock, or a race on an eventId) are reloaded and
   * decided again, after a jittered pause; at most MAX_ROUNDS, then 503 (nothing of the
   * unwritten part is stored, so the caller's retry is safe).
   */
  private async appendWithRetries(
    origin: DecisionOrigin,
    pending: Pending[],
    validationRejections: RejectedEventRow[],
    outcomes: IngestOutcome[],
  ): Promise<void> {
    for (let round = 1; pending.length > 0 || validationRejections.length > 0; round++) {
      if (round > MAX_ROUNDS) {
        throw new ServiceUnavailable(
          `could not append after ${MAX_ROUNDS} concurrent-write retries; retry the request`,
        );
      }
      let result: RoundResult;
      try {
        result = await this.store.transaction((c) =>
          this.round(c, origin, pending, validationRejections),
        );
      } catch (err) {
        if (!(err instanceof DuplicateEventIdRace) && !isTransientConflict(err)) throw err;
        this.logger.debug(
          `round ${round}: lost a race (${(err as Error).message.slice(0, 80)}), retrying`,
        );
        await sleep(backoffMs(round, 5, 200));
        continue;
      }
      validationRejections.splice(0); // kept: a later round must not keep them again
      const next: Pending[] = [];
      for (const p of pending) {
        const o = result.outcomes.get(p.index)!;
        if (o.status !== 'duplicate' && result.conflicted.has(p.contractId)) next.push(p);
        else outcomes[p.index] = o;
      }
      pending = next;
      if (next.length > 0) {
        this.logger.debug(`round ${round}: ${next.length} events on contended streams, retrying`);
        await sleep(backoffMs(round, 5, 200));
      }
    }
  }

  /** One round, in one transaction: dedupe → load → decide → append and keep rejections. */
  private async round(
    c: Sql,
    origin: DecisionOrigin,
    pending: Pending[],
    validationRejections: RejectedEventRow[],
  ): Promise<RoundResult> {
    const outcomes = new Map<number, IngestOutcome>();
    const existing = await this.store.existingEventIds(
      c,
      pending.map((p) => p.eventId),
    );
    const fresh: Pending[] = [];
    for (const p of pending) {
      if (existing.has(p.eventId))
        outcomes.set(p.index, { eventId: p.eventId, status: 'duplicate' });
      else fresh.push(p);
    }
    const states = await this.loadStates(c, fresh);
    const storedIn = await this.store.streamsOfEvents(c, retractionTargets(fresh));
    const decision = decideBatch(fresh, { states, storedIn }, origin);

    const appends: StreamAppend[] = [...decision.appends].map(([streamId, a]) => ({
      streamId,
      expectedVersion: a.expectedVersion,
      events: a.facts.map((p) => {
        outcomes.set(p.index, { eventId: p.eventId, status: 'accepted' });
        return {
          eventId: p.eventId,
          streamId,
          type: p.type,
          schemaVersion: p.event.schemaVersion,
          occurredAt: p.event.occurredAt,
          data: p.data,
          metadata: {
            source: p.item.source,
            ...(p.event.correlationId ? { correlationId: p.event.correlationId } : {}),
          },
        };
      }),
    }));
    for (const r of decision.rejected)
      outcomes.set(r.fact.index, {
        eventId: r.fact.eventId,
        status: 'rejected',
        code: r.code,
        message: r.message,
        errors: [],
      });

    const { conflicted } = await this.store.append(c, appends);
    // a lost race is decided again next round: its rejections are kept then
    const kept = decision.rejected
      .filter((r) => !conflicted.has(r.fact.contractId))
      .map(({ fact, code, message }) => ({
        eventId: fact.eventId,
        contractId: fact.contractId,
        type: fact.type,
        code,
        message,
        errors: [],
        payload: fact.item.raw,
        source: fact.item.source,
      }));
    await this.store.recordRejections(c, [...validationRejections, ...kept]);
    return { outcomes, conflicted };
  }

  /** The decision state of every contract the events touch, folded from its stored history. */
  private async loadStates(c: Sql, fresh: Pending[]): Promise<Map<string, DecisionState>> {
    const states = new Map<string, DecisionState>();
    const ids = [...new Set(fresh.map((p) => p.contractId))];
    for (const row of await this.store.loadStreams(c, ids, DECISION_FIELDS)) {
      let state = states.get(row.streamId);
      if (!state) states.set(row.streamId, (state = emptyDecisionState()));
      evolveInPlace(state, row);
    }
    return states;
  }
}
