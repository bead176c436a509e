import { Logger } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { ErrorCodes, parseEnvelope, type ValidatedEvent } from '@app/contracts';
import {
  decide,
  emptyDecisionState,
  evolveInPlace,
  type DecisionOrigin,
  type DecisionState,
} from '@app/domain';
import {
  DuplicateEventIdRace,
  PgEventStore,
  isDataError,
  type RejectedEventRow,
  type StreamAppend,
} from '@app/event-store';
import { Clock, ServiceUnavailable } from '@app/platform';
import { RecordEventsCommand, type IngestItem, type IngestOutcome } from './record-events.command';

/** Rounds of reload-and-retry for streams that lost an optimistic-concurrency race. */
const MAX_ROUNDS = 20;
/** Events validated between two yields to the event loop (a 1,000-event body must not stall it). */
const PARSE_SLICE = 100;

/** Deadlock or serialization failure: the whole round rolled back and may simply run again. */
function isTransientConflict(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return code === '40P01' || code === '40001';
}

/** Jittered, growing pause between contended rounds, so that racing writers spread out. */
function backoff(round: number): Promise<void> {
  const ms = Math.random() * Math.min(5 * 2 ** round, 200);
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

interface Pending {
  index: number;
  event: ValidatedEvent;
  item: IngestItem;
}

@CommandHandler(RecordEventsCommand)
export class RecordEventsHandler implements ICommandHandler<RecordEventsCommand> {
  private readonly logger = new Logger(RecordEventsHandler.name);

  constructor(
    private readonly store: PgEventStore,
    private readonly clock: Clock,
  ) {}

  async execute(cmd: RecordEventsCommand): Promise<IngestOutcome[]> {
    const outcomes: IngestOutcome[] = new Array(cmd.items.length);
    const { pending, rejections } = await this.parse(cmd.items, this.clock.now(), outcomes);
    await this.record(cmd.origin, pending, rejections, outcomes);
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
          httpStatus: 400,
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
      const id = parsed.event.eventId;
      if (seen.has(id)) {
        outcomes[index] = { eventId: id, status: 'duplicate', httpStatus: 200 };
        continue;
      }
      seen.add(id);
      pending.push({ index, event: parsed.event, item });
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
      await this.appendRounds(origin, pending, rejections, outcomes);
      return;
    } catch (err) {
      if (!isDataError(err)) throw err;
      this.logger.warn(`the database refused a batch's content: ${(err as Error).message}`);
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
          eventId: p.event.eventId,
          contractId: p.event.contractId,
          type: p.event.type,
          code: ErrorCodes.UNSTORABLE,
          message,
          errors: [],
          payload: p.item.raw,
          source: p.item.source,
        },
      ]),
    );
    outcomes[p.index] = {
      eventId: p.event.eventId,
      status: 'rejected',
      code: ErrorCodes.UNSTORABLE,
      message,
      errors: [],
      httpStatus: 400,
    };
  }

  /**
   * Rounds of dedupe → decide → append, one transaction each; streams that lost an
   * optimistic-concurrency race are reloaded and decided again in the next round.
   */
  private async appendRounds(
    origin: DecisionOrigin,
    pending: Pending[],
    validationRejections: RejectedEventRow[],
    outcomes: IngestOutcome[],
  ): Promise<void> {
    for (let round = 1; pending.length > 0 || validationRejections.length > 0; round++) {
      if (round > MAX_ROUNDS) {
        // Nothing of `pending` was written: the caller may retry safely (eventIds are idempotent).
        throw new ServiceUnavailable(
          `could not append after ${MAX_ROUNDS} concurrent-write retries; retry the request`,
        );
      }
      try {
        const roundOutcomes = new Map<number, IngestOutcome>();
        const conflicted = await this.store.transaction(async (c) => {
          const existing = await this.store.existingEventIds(
            c,
            pending.map((p) => p.event.eventId),
          );
          const fresh = pending.filter((p) => !existing.has(p.event.eventId));
          for (const p of pending) {
            if (existing.has(p.event.eventId))
              roundOutcomes.set(p.index, {
                eventId: p.event.eventId,
                status: 'duplicate',
                httpStatus: 200,
              });
          }
          const streamIds = [...new Set(fresh.map((p) => p.event.contractId))];
          const states = new Map<string, DecisionState>();
          for (const row of await this.store.loadStreams(c, streamIds)) {
            let state = states.get(row.streamId);
            if (!state) states.set(row.streamId, (state = emptyDecisionState()));
            evolveInPlace(state, row);
          }
          // retractions of events that are stored in another contract are refused
          const targets = new Map<string, Set<string>>(); // target → contracts retracting it
          for (const p of fresh) {
            if (p.event.type !== 'EventRetracted') continue;
            const target = String(p.event.data.retractedEventId).toLowerCase();
            let by = targets.get(target);
            if (!by) targets.set(target, (by = new Set()));
            by.add(p.event.contractId);
          }
          const elsewhere = new Map<string, Set<string>>(); // contract → targets stored elsewhere
          for (const [target, streamId] of await this.store.streamsOfEvents(c, [
            ...targets.keys(),
          ])) {
            for (const retractingIn of targets.get(target) ?? []) {
              if (retractingIn === streamId) continue;
              let set = elsewhere.get(retractingIn);
              if (!set) elsewhere.set(retractingIn, (set = new Set()));
              set.add(target);
            }
          }
          const appends = new Map<string, StreamAppend>();
          const decisionRejections: Array<{ streamId: string; row: RejectedEventRow }> = [];
          for (const p of fresh) {
            const sid = p.event.contractId;
            const state = states.get(sid) ?? emptyDecisionState();
            const input = { ...p.event, platformId: p.item.source.platformId };
            const decision = decide(input, state, origin, {
              storedElsewhere: elsewhere.get(sid),
            });
            if (decision.ok) {
              let a = appends.get(sid);
              if (!a) {
                // the stored version: this stream's first accepted event of the round
                a = { streamId: sid, expectedVersion: state.version, events: [] };
                appends.set(sid, a);
              }
              evolveInPlace(state, input);
              states.set(sid, state);
              a.events.push({
                eventId: p.event.eventId,
                streamId: sid,
                type: p.event.type,
                schemaVersion: p.event.schemaVersion,
                occurredAt: p.event.occurredAt,
                data: p.event.data,
                metadata: {
                  source: p.item.source,
                  ...(p.event.correlationId ? { correlationId: p.event.correlationId } : {}),
                },
              });
              roundOutcomes.set(p.index, {
                eventId: p.event.eventId,
                status: 'accepted',
                httpStatus: 202,
              });
            } else {
              roundOutcomes.set(p.index, {
                eventId: p.event.eventId,
                status: 'rejected',
                code: decision.code,
                message: decision.message,
                errors: [],
                httpStatus: decision.status,
              });
              decisionRejections.push({
                streamId: sid,
                row: {
                  eventId: p.event.eventId,
                  contractId: sid,
                  type: p.event.type,
                  code: decision.code,
                  message: decision.message,
                  errors: [],
                  payload: p.item.raw,
                  source: p.item.source,
                },
              });
            }
          }
          const { conflicted } = await this.store.append(c, [...appends.values()]);
          await this.store.recordRejections(c, [
            ...validationRejections,
            ...decisionRejections.filter((r) => !conflicted.has(r.streamId)).map((r) => r.row),
          ]);
          return conflicted;
        });
        validationRejections.splice(0); // kept: a later round must not keep them again
        const next: Pending[] = [];
        for (const p of pending) {
          const o = roundOutcomes.get(p.index)!;
          if (o.status !== 'duplicate' && conflicted.has(p.event.contractId)) next.push(p);
          else outcomes[p.index] = o;
        }
        pending = next;
        if (next.length > 0) {
          this.logger.debug(`round ${round}: ${next.length} events on contended streams, retrying`);
          await backoff(round);
        }
      } catch (err) {
        if (!(err instanceof DuplicateEventIdRace) && !isTransientConflict(err)) throw err;
        this.logger.debug(
          `round ${round}: lost a race (${(err as Error).message.slice(0, 80)}), retrying`,
        );
        await backoff(round);
      }
    }
  }
}
