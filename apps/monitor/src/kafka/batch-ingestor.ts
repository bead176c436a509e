import { Logger } from '@nestjs/common';
import { MAX_EVENTS_PER_REQUEST } from '@app/contracts';
import type { RejectedEventRow } from '@app/event-store';
import type { IngestItem, IngestOutcome } from '../ingestion/record-events/record-events.command';
import { backoffMs, type Sleeper } from '@app/platform';
import {
  BatchRevoked,
  type BatchControl,
  type DeadLetter,
  type DlqPublisher,
  type InboundBatch,
} from './event-consumer.port';
import type { KafkaMetrics } from './kafka-metrics';
import { deadLetter, decodeMessage, kafkaSource, type Decoded } from './message-decoding';

export interface BatchIngestorDeps {
  /** RecordEventsCommand: validate, dedupe, decide, append; one outcome per item. */
  record(items: IngestItem[]): Promise<IngestOutcome[]>;
  /** Keeps records that are not even JSON in rejected_events (own transaction). */
  recordUnparsable(rows: RejectedEventRow[]): Promise<void>;
  /** Which of these records of the partition are already dead-lettered (a redelivery). */
  deadLettered(topic: string, partition: number, offsets: string[]): Promise<Set<string>>;
  /** Notes that these records reached the dead-letter topic. */
  markDeadLettered(topic: string, partition: number, offsets: string[]): Promise<void>;
  /** The platform the topic stands for (Kafka carries no identity of its own). */
  platformId: string;
  dlq: DlqPublisher;
  metrics: KafkaMetrics;
  sleeper: Pick<Sleeper, 'sleep'>;
  retry?: { baseMs: number; capMs: number };
  onRetry?(failure: StepFailure): void;
  onRecovered?(partition: number): void;
}

/** A batch step that failed and is being retried: the partition makes no progress meanwhile. */
export interface StepFailure {
  partition: number;
  /** the first record of the chunk the partition is held at */
  offset: string;
  step: string;
  attempt: number;
  delayMs: number;
  /** when this step first failed (epoch ms) */
  since: number;
  error: Error;
}

/** The batch is given up without committing (stopping or revoked while a step fails). */
class Abandon extends Error {}

/** Longest single sleep between heartbeats while backing off. */
const HEARTBEAT_SLICE_MS = 1_000;

/**
 * Turns a partition's batch into RecordEventsCommands, in chunks of at most 1,000 records,
 * and for each chunk, strictly in this order:
 *   1. append (RecordEventsCommand; its transaction also keeps the rejected events),
 *   2. keep the records that are not JSON in rejected_events,
 *   3. dead-letter every rejected record not dead-lettered before (a redelivery after a
 *      crash finds it marked), wait for the acknowledgement (acks = all), mark it,
 *   4. commit the offset after the chunk's last record.
 * A step that fails (database down, DLQ unreachable) is retried in place with exponential
 * backoff, heartbeating meanwhile so that the group keeps the partition; the steps already
 * done are not repeated. Nothing is ever skipped: the offset only moves past a record once
 * it is stored (or kept as rejected and dead-lettered).
 */
export class BatchIngestor {
  private readonly logger = new Logger('KafkaConsumer');

  constructor(private readonly deps: BatchIngestorDeps) {}

  async handle(batch: InboundBatch, ctl: BatchControl): Promise<void> {
    if (batch.messages.length > 0)
      this.deps.metrics.recordFetched(
        batch.partition,
        Number(BigInt(batch.highWatermark) - BigInt(batch.messages[0].offset)),
      );
    try {
      for (let i = 0; i < batch.messages.length; i += MAX_EVENTS_PER_REQUEST) {
        // A revoked partition's records are someone else's now; when stopping we still
        // finish the whole batch in hand (it is already fetched and usually small).
        if (ctl.isStale()) throw new Abandon('partition revoked');
        await this.handleChunk(batch, batch.messages.slice(i, i + MAX_EVENTS_PER_REQUEST), ctl);
        await ctl.heartbeat();
      }
    } catch (err) {
      if (!(err instanceof Abandon)) throw err;
      this.logger.warn(
        `partition ${batch.partition}: batch left uncommitted (${err.message}); it will be redelivered`,
      );
    }
  }

  private async handleChunk(
    batch: InboundBatch,
    chunk: InboundBatch['messages'],
    ctl: BatchControl,
  ): Promise<void> {
    const decoded = chunk.map(decodeMessage);
    const parsed = decoded.filter((d): d is Extract<Decoded, { ok: true }> => d.ok);
    const unparsable = decoded.filter((d): d is Extract<Decoded, { ok: false }> => !d.ok);
    const p = batch.partition;
    const at = chunk[0].offset;
    const source = (m: InboundBatch['messages'][number]) => kafkaSource(m, this.deps.platformId);

    const outcomes =
      parsed.length === 0
        ? []
        : await this.step(ctl, p, at, 'append', () =>
            this.deps.record(parsed.map((d) => ({ raw: d.raw, source: source(d.message) }))),
          );
    if (unparsable.length > 0) {
      await this.step(ctl, p, at, 'keep unparsable records', () =>
        this.deps.recordUnparsable(
          unparsable.map((d) => ({
            eventId: null,
            // SPEC §5: the key is the contractId; kept to find the producer's stream.
            contractId: d.message.key?.toString('utf8') ?? null,
            type: null,
            code: d.code,
            message: d.reason,
            errors: [],
            payload: d.text,
            source: source(d.message),
          })),
        ),
      );
    }

    const byOffset = new Map<string, DeadLetter>();
    parsed.forEach((d, i) => {
      const o = outcomes[i];
      if (o.status === 'rejected')
        byOffset.set(
          d.message.offset,
          deadLetter(d.message, o.code!, o.message ?? 'rejected', o.errors),
        );
    });
    for (const d of unparsable)
      byOffset.set(d.message.offset, deadLetter(d.message, d.code, d.reason));
    let deadOffsets = chunk.map((m) => m.offset).filter((o) => byOffset.has(o));
    if (deadOffsets.length > 0) {
      const before = await this.step(ctl, p, at, 'dead-letter', () =>
        this.deps.deadLettered(batch.topic, p, deadOffsets),
      );
      deadOffsets = deadOffsets.filter((o) => !before.has(o));
    }
    if (deadOffsets.length > 0) {
      await this.step(ctl, p, at, 'dead-letter', () =>
        this.deps.dlq.publish(deadOffsets.map((o) => byOffset.get(o)!)),
      );
      await this.step(ctl, p, at, 'dead-letter', () =>
        this.deps.markDeadLettered(batch.topic, p, deadOffsets),
      );
    }

    const last = chunk[chunk.length - 1];
    await this.step(ctl, p, at, 'commit', () => ctl.commit(last.offset));

    this.deps.metrics.recordCommitted({
      partition: p,
      consumed: chunk.length,
      outcomes: [
        ...outcomes,
        ...unparsable.map((d) => ({ status: 'rejected' as const, code: d.code })),
      ],
      deadLettered: deadOffsets.length,
      lag: Number(BigInt(batch.highWatermark) - BigInt(last.offset) - 1n),
    });
  }

  /** Runs `fn` until it succeeds; gives the batch up only when stopping or revoked. */
  private async step<T>(
    ctl: BatchControl,
    partition: number,
    offset: string,
    name: string,
    fn: () => Promise<T>,
  ): Promise<T> {
    const { baseMs, capMs } = this.deps.retry ?? { baseMs: 250, capMs: 30_000 };
    let since = 0;
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await fn();
        if (attempt > 1) {
          this.logger.log(`partition ${partition}: ${name} succeeded after ${attempt} attempts`);
          this.deps.onRecovered?.(partition);
        }
        return result;
      } catch (err) {
        if (err instanceof BatchRevoked) throw err;
        const e = err instanceof Error ? err : new Error(String(err));
        if (!ctl.isRunning()) throw new Abandon(`stopping while ${name} fails: ${e.message}`);
        if (ctl.isStale()) throw new Abandon('partition revoked');
        const delay = backoffMs(attempt, baseMs, capMs);
        if (attempt === 1) since = Date.now();
        this.deps.metrics.recordRetry();
        this.deps.onRetry?.({
          partition,
          offset,
          step: name,
          attempt,
          delayMs: delay,
          since,
          error: e,
        });
        this.logger.warn(
          `partition ${partition}: ${name} failed (attempt ${attempt}), retrying in ${delay} ms: ${e.message}`,
        );
        await this.pause(ctl, delay);
      }
    }
  }

  /** Sleeps `ms`, heartbeating so the group does not take the partition away meanwhile. */
  private async pause(ctl: BatchControl, ms: number): Promise<void> {
    const until = Date.now() + ms;
    for (let left = ms; left > 0; left = until - Date.now()) {
      await this.deps.sleeper.sleep(Math.min(left, HEARTBEAT_SLICE_MS));
      if (!ctl.isRunning()) throw new Abandon('stopping while backing off');
      try {
        await ctl.heartbeat();
      } catch (err) {
        if (err instanceof BatchRevoked) throw err;
        // The coordinator is unreachable too: keep waiting; the session timeout decides.
      }
    }
  }
}
