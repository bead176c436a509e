import { Logger, Optional } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { ErrorCodes, parseEnvelope, type ValidatedEvent } from '@app/contracts';
import {
  DECISION_FIELDS,
  decideBatch,
  emptyDecisionState,
  evolveInPlace,
  type BatchFact,
  type DecisionOrigin,
  type DecisionState,
} from '@app/domain';
import {
  DuplicateEventIdRace,
  PgEventStore,
  StreamVersionConflict,
  isDataError,
  isTransientConflict,
  type RejectedEventRow,
  type Sql,
  type StreamAppend,
} from '@app/event-store';
import { Clock, ServiceUnavailable, backoffMs } from '@app/platform';
import { ContractQueue } from './contract-queue';
import { DecisionStateCache } from './decision-state-cache';
import { IngestionMetrics } from './ingestion-metrics';
import { WorkSlice } from './json-body';
import { RecordEventsCommand, type IngestItem, type IngestOutcome } from './record-events.command';

/** Rounds of reload-and-retry for streams that lost an optimistic-concurrency race. */
const MAX_ROUNDS = 20;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Lanes of a large batch: one is decided and encoded in Node while another is in PostgreSQL. */
const LANES = 2;
/** Batches smaller than this are one lane (the overlap would not pay for a second transaction). */
const MIN_LANE_ITEMS = 200;

/**
 * The batch's item indices in lanes of disjoint contracts (a contract's events keep their
 * order within its lane), so that lanes can be recorded concurrently, each in its own
 * transactions, as Kafka partitions are. One lane when the batch is small, when an eventId
 * appears under two lanes' contracts (its repeats must be decided in batch order), or when
 * a retraction names an event of the batch in another lane (whether that one is stored
 * before the retraction is decided must not depend on timing).
 */
function lanes(items: IngestItem[]): number[][] {
  const all = items.map((_, i) => i);
  if (items.length < MIN_LANE_ITEMS) return [all];
  const out: number[][] = Array.from({ length: LANES }, () => []);
  const laneOfId = new Map<string, number>();
  const retractions: Array<{ lane: number; target: string }> = [];
  for (let i = 0; i < items.length; i++) {
    const raw = items[i].raw as RawItem | null;
    const lane = typeof raw?.contractId === 'string' ? hashLane(raw.contractId) : 0;
    if (typeof raw?.eventId === 'string') {
      const id = raw.eventId.toLowerCase();
      const before = laneOfId.get(id);
      if (before !== undefined && before !== lane) return [all];
      laneOfId.set(id, lane);
    }
    const target = raw?.data?.retractedEventId;
    if (raw?.type === 'EventRetracted' && typeof target === 'string')
      retractions.push({ lane, target: target.toLowerCase() });
    out[lane].push(i);
  }
  for (const r of retractions) {
    const home = laneOfId.get(r.target);
    if (home !== undefined && home !== r.lane) return [all];
  }
  return out.filter((l) => l.length > 0);
}

interface RawItem {
  contractId?: unknown;
  eventId?: unknown;
  type?: unknown;
  data?: { retractedEventId?: unknown } | null;
}

function hashLane(contractId: string): number {
  let h = 0;
  for (let i = 0; i < contractId.length; i++) h = (h * 31 + contractId.charCodeAt(i)) | 0;
  return (h >>> 0) % LANES;
}

/** A valid event of the batch, not repeated within it, waiting for its decision. */
interface Pending extends BatchFact {
  index: number;
  event: ValidatedEvent;
  item: IngestItem;
}

/** What one round decided, and the decision states it leaves once committed. */
interface RoundResult {
  outcomes: Map<number, IngestOutcome>;
  states: Map<string, DecisionState>;
}

/**
 * RecordEventsCommand, in named steps, per lane of disjoint contracts (lanes(): two for a large
 * batch; parsed one after the other, then recorded concurrently): parse (validate, drop
 * repeats within the batch) → in turn with this instance's other commands on the same
 * contracts (ContractQueue) → rounds of [decision states (remembered, else loaded) →
 * decideBatch (pure, in libs/domain) → one COPY of the accepted events + keep the
 * rejections], one transaction each, until a
 * round commits (a lost race rolls the round back; the next reloads) → outcomes in batch order.
 */
@CommandHandler(RecordEventsCommand)
export class RecordEventsHandler implements ICommandHandler<RecordEventsCommand> {
  private readonly logger = new Logger(RecordEventsHandler.name);
  private readonly queue = new ContractQueue();

  constructor(
    private readonly store: PgEventStore,
    private readonly clock: Clock,
    /** absent where tests and benchmarks construct the handler themselves */
    @Optional() private readonly metrics?: IngestionMetrics,
    @Optional() private readonly states: DecisionStateCache = new DecisionStateCache(),
  ) {}

  async execute(cmd: RecordEventsCommand): Promise<IngestOutcome[]> {
    const outcomes: IngestOutcome[] = new Array(cmd.items.length);
    const now = this.clock.now();
    const parsed = [];
    for (const indices of lanes(cmd.items))
      parsed.push(await this.parse(cmd.items, indices, now, outcomes));
    if (parsed.some((p) => p.rejections.length > 0)) {
      // Invalid events are kept with their payloads (up to 64 KiB each): encoding them is Node's
      // work, which gains nothing from overlapping lanes, and two lanes at once doubled the
      // live memory and the event loop's longest stall (hostile-input's 59 MB body).
      for (const { pending, rejections } of parsed)
        await this.inTurn(pending, () => this.record(cmd.origin, pending, rejections, outcomes));
    } else {
      await Promise.all(
        parsed.map(({ pending }) =>
          this.inTurn(pending, () => this.record(cmd.origin, pending, [], outcomes)),
        ),
      );
    }
    this.metrics?.record(cmd.items, outcomes);
    return outcomes;
  }

  /**
   * Runs `task` once the commands of this instance that started recording earlier on any of
   * `pending`'s contracts have finished (ContractQueue): it then decides on the states they
   * committed instead of racing them on the same versions.
   */
  private inTurn(pending: Pending[], task: () => Promise<void>): Promise<void> {
    return this.queue.run(
      pending.map((p) => p.contractId),
      task,
    );
  }

  /**
   * Validates the items at `indices` (yielding now and then) and drops repeats within them
   * (lanes() keeps every repeat of an eventId in one lane).
   */
  private async parse(
    items: IngestItem[],
    indices: number[],
    now: number,
    outcomes: IngestOutcome[],
  ): Promise<{ pending: Pending[]; rejections: RejectedEventRow[] }> {
    const pending: Pending[] = [];
    const rejections: RejectedEventRow[] = [];
    const seen = new Set<string>();
    // a 1,000-event body must not stall the event loop: yield every few milliseconds of work
    const slice = new WorkSlice();
    for (let k = 0; k < indices.length; k++) {
      if (slice.due()) await slice.yield();
      const index = indices[k];
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
   * Rounds until every pending event has its outcome. A round that loses a race (a stream
   * version or an eventId another writer took first, a deadlock, a serialization failure)
   * writes nothing; the next one reloads every contract of the batch from the store and
   * decides again, after a jittered pause; at most MAX_ROUNDS, then 503 (nothing of the batch
   * is stored, so the caller's retry is safe).
   */
  private async appendWithRetries(
    origin: DecisionOrigin,
    pending: Pending[],
    validationRejections: RejectedEventRow[],
    outcomes: IngestOutcome[],
  ): Promise<void> {
    let reload = false;
    for (let round = 1; ; round++) {
      if (round > MAX_ROUNDS) {
        throw new ServiceUnavailable(
          `could not append after ${MAX_ROUNDS} concurrent-write retries; retry the request`,
        );
      }
      let result: RoundResult | 'reload';
      try {
        result = await this.store.transaction((c) =>
          this.round(c, origin, pending, validationRejections, reload),
        );
      } catch (err) {
        // whatever the transaction did is rolled back: forget what it might have changed
        for (const p of pending) this.states.delete(p.contractId);
        if (
          !(err instanceof DuplicateEventIdRace) &&
          !(err instanceof StreamVersionConflict) &&
          !isTransientConflict(err)
        )
          throw err;
        this.metrics?.conflict(
          err instanceof StreamVersionConflict
            ? 'stream_version'
            : err instanceof DuplicateEventIdRace
              ? 'event_id'
              : 'transient',
        );
        this.logger.debug(
          `round ${round}: lost a race (${(err as Error).message.slice(0, 80)}), retrying`,
        );
        reload = true;
        await sleep(backoffMs(round, 5, 200));
        continue;
      }
      if (result === 'reload') {
        reload = true; // a refusal decided on remembered state: decide again on stored state
        continue;
      }
      for (const [index, o] of result.outcomes) outcomes[index] = o;
      for (const [id, state] of result.states) this.states.set(id, state);
      return;
    }
  }

  /**
   * One round, in one transaction: decide the batch against each contract's decision state
   * (remembered from this handler's earlier commits, else loaded from the store), then COPY
   * the accepted events and keep the rejections. No statement checks what the unique keys
   * check: a remembered state that is stale (another writer appended since) makes the COPY
   * fail on `(stream_id, stream_version)`, an eventId stored in another contract on
   * `event_id`; the caller then reloads. A refusal is only ever decided on state read in this
   * transaction (a remembered state may miss a retraction that freed an identity): if one was
   * decided on remembered state, the round stops before writing and asks for a reload; a
   * duplicate found in a remembered state is confirmed by one read of the store.
   * With `reload`, every contract is loaded and the eventIds are checked against the whole
   * store (the ones stored in other contracts are duplicates).
   */
  private async round(
    c: Sql,
    origin: DecisionOrigin,
    pending: Pending[],
    validationRejections: RejectedEventRow[],
    reload: boolean,
  ): Promise<RoundResult | 'reload'> {
    const outcomes = new Map<number, IngestOutcome>();
    const storedElsewhere = reload
      ? await this.store.existingEventIds(
          c,
          pending.map((p) => p.eventId),
        )
      : new Set<string>();
    const { states, remembered } = await this.statesOf(c, pending, reload);
    const fresh: Pending[] = [];
    const rememberedDuplicates: string[] = [];
    for (const p of pending) {
      if (states.get(p.contractId)!.events.has(p.eventId.toLowerCase())) {
        if (remembered.has(p.contractId)) rememberedDuplicates.push(p.eventId);
      } else if (!storedElsewhere.has(p.eventId)) {
        fresh.push(p);
        continue;
      }
      outcomes.set(p.index, { eventId: p.eventId, status: 'duplicate' });
    }
    // "duplicate" tells the sender to stop retrying: the store itself must say so
    if (rememberedDuplicates.length > 0) {
      const stored = await this.store.existingEventIds(c, rememberedDuplicates);
      if (rememberedDuplicates.some((id) => !stored.has(id))) return 'reload';
    }
    // where the retracted events are stored, unless in the retracting contract's own history
    const targets = new Set<string>();
    for (const p of fresh)
      if (p.type === 'EventRetracted') {
        const t = String(p.data.retractedEventId).toLowerCase();
        if (!states.get(p.contractId)!.events.has(t)) targets.add(t);
      }
    const storedIn = await this.store.streamsOfEvents(c, [...targets]);
    const decision = decideBatch(fresh, { states, storedIn }, origin);
    if (decision.rejected.some((r) => remembered.has(r.fact.contractId))) return 'reload';

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

    await this.store.append(c, appends);
    const kept = decision.rejected.map(({ fact, code, message }) => ({
      eventId: fact.eventId,
      contractId: fact.contractId,
      type: fact.type,
      code,
      message,
      errors: [],
      payload: fact.item.raw,
      source: fact.item.source,
    }));
    const rejections = [...validationRejections, ...kept];
    if (rejections.length > 0) await this.store.recordRejections(c, rejections);
    return { outcomes, states };
  }

  /**
   * The decision state of every contract the events touch: the remembered one, taken from
   * the cache (the caller's working state; it goes back only once committed, a failed or
   * abandoned round just drops it), else folded from the stored history. `remembered`: the
   * contracts whose state was not read now.
   */
  private async statesOf(
    c: Sql,
    pending: Pending[],
    reload: boolean,
  ): Promise<{ states: Map<string, DecisionState>; remembered: Set<string> }> {
    const states = new Map<string, DecisionState>();
    const remembered = new Set<string>();
    const missing: string[] = [];
    for (const p of pending) {
      const id = p.contractId;
      if (states.has(id)) continue;
      const known = reload ? undefined : this.states.take(id);
      if (known) {
        states.set(id, known); // taken: this round's to advance; given back only once committed
        remembered.add(id);
      } else {
        states.set(id, emptyDecisionState());
        missing.push(id);
      }
    }
    for (const row of await this.store.loadStreams(c, missing, DECISION_FIELDS))
      evolveInPlace(states.get(row.streamId)!, row);
    return { states, remembered };
  }
}
