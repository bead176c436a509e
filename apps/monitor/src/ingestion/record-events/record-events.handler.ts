import { Logger } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { parseEnvelope, type ValidatedEvent } from '@app/contracts';
import { decide, emptyDecisionState, evolveInPlace, type DecisionState } from '@app/domain';
import {
  DuplicateEventIdRace,
  PgEventStore,
  type RejectedEventRow,
  type StreamAppend,
} from '@app/event-store';
import { Clock, ServiceUnavailable } from '@app/platform';
import { RecordEventsCommand, type IngestItem, type IngestOutcome } from './record-events.command';

/** Rounds of reload-and-retry for streams that lost an optimistic-concurrency race. */
const MAX_ROUNDS = 20;

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
    const now = this.clock.now();
    const outcomes: IngestOutcome[] = new Array(cmd.items.length);
    let validationRejections: RejectedEventRow[] = [];
    let pending: Pending[] = [];
    const seen = new Set<string>();

    cmd.items.forEach((item, index) => {
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
        validationRejections.push({
          eventId: parsed.eventId,
          contractId: typeof raw?.contractId === 'string' ? raw.contractId : null,
          type: typeof raw?.type === 'string' ? raw.type : null,
          code: parsed.code,
          message: parsed.message,
          errors: parsed.errors,
          payload: item.raw,
          source: item.source,
        });
        return;
      }
      const id = parsed.event.eventId;
      if (seen.has(id)) {
        outcomes[index] = { eventId: id, status: 'duplicate', httpStatus: 200 };
        return;
      }
      seen.add(id);
      pending.push({ index, event: parsed.event, item });
    });

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
            const decision = decide(p.event, state, cmd.origin, {
              storedElsewhere: elsewhere.get(sid),
            });
            if (decision.ok) {
              let a = appends.get(sid);
              if (!a) {
                // the stored version: this stream's first accepted event of the round
                a = { streamId: sid, expectedVersion: state.version, events: [] };
                appends.set(sid, a);
              }
              evolveInPlace(state, p.event);
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
        validationRejections = [];
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
    return outcomes;
  }
}
