import { DlqHeaders } from '@app/contracts';
import type { RejectedEventRow } from '@app/event-store';
import type { IngestItem, IngestOutcome } from '../ingestion/record-events/record-events.command';
import { BatchIngestor, type StepFailure } from './batch-ingestor';
import {
  BatchRevoked,
  type BatchControl,
  type DeadLetter,
  type InboundBatch,
} from './event-consumer.port';
import { KafkaMetrics } from './kafka-metrics';

/** The ingestor's order of work and its retries, with the collaborators as plain functions. */
function harness(
  opts: {
    failAppend?: number;
    failDlq?: number;
    running?: () => boolean;
    revokeCommit?: boolean;
    alreadyDeadLettered?: string[];
    onRetry?: (f: StepFailure) => void;
  } = {},
) {
  const log: string[] = [];
  let appendFailures = opts.failAppend ?? 0;
  let dlqFailures = opts.failDlq ?? 0;
  const dead: DeadLetter[] = [];
  const kept: RejectedEventRow[] = [];
  const marked = new Set<string>(opts.alreadyDeadLettered ?? []);
  const metrics = new KafkaMetrics();
  const ingestor = new BatchIngestor({
    record: async (items: IngestItem[]): Promise<IngestOutcome[]> => {
      log.push(`append ${items.length}`);
      if (appendFailures-- > 0) throw new Error('connection terminated');
      return items.map((i) => {
        const raw = i.raw as { eventId: string; bad?: boolean };
        return raw.bad
          ? {
              eventId: raw.eventId,
              status: 'rejected',
              code: 'EVENT.INVALID_PAYLOAD',
              message: 'the event is not valid',
              errors: [{ path: 'data.amount', message: 'bad' }],
            }
          : { eventId: raw.eventId, status: 'accepted' };
      });
    },
    recordUnparsable: async (rows) => {
      log.push(`keep ${rows.length}`);
      kept.push(...rows);
    },
    dlq: {
      connect: async () => undefined,
      disconnect: async () => undefined,
      publish: async (records) => {
        log.push(`dlq ${records.length}`);
        if (dlqFailures-- > 0) throw new Error('broker gone');
        dead.push(...records);
      },
    },
    deadLettered: async (_topic, _partition, offsets) =>
      new Set(offsets.filter((o) => marked.has(o))),
    markDeadLettered: async (_topic, _partition, offsets) => {
      log.push(`mark ${offsets.length}`);
      for (const o of offsets) marked.add(o);
    },
    platformId: 'kafka-platform',
    onRetry: opts.onRetry,
    metrics,
    sleeper: { sleep: async () => undefined },
    retry: { baseMs: 1, capMs: 2 },
  });
  const ctl: BatchControl = {
    isRunning: opts.running ?? (() => true),
    isStale: () => false,
    heartbeat: async () => void log.push('heartbeat'),
    commit: async (offset) => {
      if (opts.revokeCommit) throw new BatchRevoked(new Error('ILLEGAL_GENERATION'));
      log.push(`commit ${offset}`);
    },
  };
  return { ingestor, ctl, log, dead, kept, metrics };
}

function batch(values: Array<string | null>, first = 100): InboundBatch {
  return {
    topic: 'procurement.events',
    partition: 2,
    highWatermark: String(first + values.length + 5),
    messages: values.map((v, i) => ({
      topic: 'procurement.events',
      partition: 2,
      offset: String(first + i),
      key: Buffer.from(`C-${i}`),
      value: v === null ? null : Buffer.from(v),
      timestamp: '1700000000000',
    })),
  };
}

const good = (n: number) => JSON.stringify({ eventId: `e${n}` });
const bad = (n: number) => JSON.stringify({ eventId: `e${n}`, bad: true });
const steps = (log: string[]) => log.filter((l) => l !== 'heartbeat');

describe('BatchIngestor', () => {
  it('appends, keeps the not-JSON records, dead-letters all rejects in offset order, then commits', async () => {
    const h = harness();
    await h.ingestor.handle(batch([good(1), 'not json', bad(2), null, good(3)]), h.ctl);
    expect(steps(h.log)).toEqual(['append 3', 'keep 2', 'dlq 3', 'mark 3', 'commit 104']);
    expect(
      h.dead.map((d) => [d.headers[DlqHeaders.ORIGINAL_OFFSET], d.headers[DlqHeaders.ERROR_CODE]]),
    ).toEqual([
      ['101', 'EVENT.INVALID_JSON'],
      ['102', 'EVENT.INVALID_PAYLOAD'],
      ['103', 'EVENT.INVALID_JSON'],
    ]);
    expect(h.dead[1]).toEqual({
      key: Buffer.from('C-2'),
      value: Buffer.from(bad(2)),
      headers: {
        [DlqHeaders.ERROR_CODE]: 'EVENT.INVALID_PAYLOAD',
        [DlqHeaders.ERROR_MESSAGE]: 'the event is not valid: data.amount bad',
        [DlqHeaders.ORIGINAL_TOPIC]: 'procurement.events',
        [DlqHeaders.ORIGINAL_PARTITION]: '2',
        [DlqHeaders.ORIGINAL_OFFSET]: '102',
        [DlqHeaders.ORIGINAL_TIMESTAMP]: '1700000000000',
      },
    });
    expect(h.dead[2].value).toBeNull();
    expect(h.kept.map((k) => [k.code, k.payload, k.contractId, k.source])).toEqual([
      [
        'EVENT.INVALID_JSON',
        'not json',
        'C-1',
        {
          kind: 'kafka',
          platformId: 'kafka-platform',
          topic: 'procurement.events',
          partition: 2,
          offset: '101',
        },
      ],
      [
        'EVENT.INVALID_JSON',
        null,
        'C-3',
        {
          kind: 'kafka',
          platformId: 'kafka-platform',
          topic: 'procurement.events',
          partition: 2,
          offset: '103',
        },
      ],
    ]);
    expect(h.metrics.snapshot()).toEqual(
      expect.objectContaining({
        consumed: 5,
        accepted: 2,
        rejected: 3,
        deadLettered: 3,
        commits: 1,
        lag: { '2': 5 },
      }),
    );
  });

  it('a redelivered record that was dead-lettered before is not dead-lettered again', async () => {
    const h = harness({ alreadyDeadLettered: ['101'] });
    await h.ingestor.handle(batch([good(1), 'not json', bad(2)]), h.ctl);
    expect(steps(h.log)).toEqual(['append 2', 'keep 1', 'dlq 1', 'mark 1', 'commit 102']);
    expect(h.dead.map((d) => d.headers[DlqHeaders.ORIGINAL_OFFSET])).toEqual(['102']);
  });

  it('reports a failing step with the partition, the offset it is held at and since when', async () => {
    const failures: Array<{ partition: number; offset: string; step: string; since: number }> = [];
    const h = harness({ failAppend: 2 });
    const ingestor = new BatchIngestor({
      ...(h.ingestor as unknown as { deps: ConstructorParameters<typeof BatchIngestor>[0] }).deps,
      onRetry: (f) => failures.push(f),
    });
    await ingestor.handle(batch([good(1)], 300), h.ctl);
    expect(failures.map((f) => [f.partition, f.offset, f.step])).toEqual([
      [2, '300', 'append'],
      [2, '300', 'append'],
    ]);
    expect(failures[1].since).toBe(failures[0].since);
  });

  it('commits once per chunk of at most 1,000 records', async () => {
    const h = harness();
    await h.ingestor.handle(
      batch(
        Array.from({ length: 2_500 }, (_, i) => good(i)),
        0,
      ),
      h.ctl,
    );
    expect(steps(h.log)).toEqual([
      'append 1000',
      'commit 999',
      'append 1000',
      'commit 1999',
      'append 500',
      'commit 2499',
    ]);
  });

  it('retries a failing step in place, heartbeating, and never repeats a step that succeeded', async () => {
    const h = harness({ failAppend: 2, failDlq: 1 });
    await h.ingestor.handle(batch([good(1), bad(2)]), h.ctl);
    expect(steps(h.log)).toEqual([
      'append 2',
      'append 2',
      'append 2',
      'dlq 1',
      'dlq 1',
      'mark 1',
      'commit 101',
    ]);
    expect(h.log.filter((l) => l === 'heartbeat').length).toBeGreaterThanOrEqual(3);
    expect(h.metrics.snapshot().retries).toBe(3);
  });

  it('gives the batch up without committing when stopping while a step fails', async () => {
    const h = harness({ failAppend: 1, running: () => false });
    await h.ingestor.handle(batch([good(1)]), h.ctl);
    expect(steps(h.log)).toEqual(['append 1']);
    expect(h.metrics.snapshot().consumed).toBe(0);
  });

  it('lets a group change propagate (the records are redelivered to the new owner)', async () => {
    const h = harness({ revokeCommit: true });
    await expect(h.ingestor.handle(batch([good(1)]), h.ctl)).rejects.toBeInstanceOf(BatchRevoked);
  });
});
