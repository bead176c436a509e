import { Injectable } from '@nestjs/common';
import type { IngestStatus } from '../ingestion/record-events/record-events.command';

export interface KafkaMetricsSnapshot {
  /** records handled and committed */
  consumed: number;
  accepted: number;
  duplicate: number;
  rejected: number;
  rejectedByCode: Record<string, number>;
  deadLettered: number;
  /** failed attempts of a batch step (append, dead-letter, commit) that were retried */
  retries: number;
  commits: number;
  /** this member's partitions since the last group join */
  assignedPartitions: number[];
  /** records behind the log end per partition, as of the last committed batch */
  lag: Record<string, number>;
}

/** Counters of the Kafka consumer role (one set per service instance). */
@Injectable()
export class KafkaMetrics {
  private consumed = 0;
  private readonly outcomes: Record<IngestStatus, number> = {
    accepted: 0,
    duplicate: 0,
    rejected: 0,
  };
  private readonly rejectedByCode = new Map<string, number>();
  private deadLettered = 0;
  private retries = 0;
  private commits = 0;
  private assigned: number[] = [];
  private readonly lag = new Map<number, number>();

  /** One committed chunk of a partition. */
  recordCommitted(c: {
    partition: number;
    consumed: number;
    outcomes: Array<{ status: IngestStatus; code?: string }>;
    deadLettered: number;
    lag: number;
  }): void {
    this.consumed += c.consumed;
    for (const o of c.outcomes) {
      this.outcomes[o.status]++;
      if (o.status === 'rejected') {
        const code = o.code ?? 'UNKNOWN';
        this.rejectedByCode.set(code, (this.rejectedByCode.get(code) ?? 0) + 1);
      }
    }
    this.deadLettered += c.deadLettered;
    this.commits++;
    if (this.assigned.length === 0 || this.assigned.includes(c.partition))
      this.lag.set(c.partition, Math.max(0, c.lag));
  }

  /** A batch was fetched: until it is committed, the partition is this far behind. */
  recordFetched(partition: number, lag: number): void {
    if (this.assigned.length === 0 || this.assigned.includes(partition))
      this.lag.set(partition, Math.max(0, lag));
  }

  recordRetry(): void {
    this.retries++;
  }

  recordAssignment(partitions: number[]): void {
    this.assigned = [...partitions];
    for (const p of [...this.lag.keys()]) if (!partitions.includes(p)) this.lag.delete(p);
    // every assigned partition has a line: 0 until its first batch is fetched (right after
    // the join when it has a backlog), then as of the last fetch or commit
    for (const p of partitions) if (!this.lag.has(p)) this.lag.set(p, 0);
  }

  snapshot(): KafkaMetricsSnapshot {
    return {
      consumed: this.consumed,
      ...this.outcomes,
      rejectedByCode: Object.fromEntries(
        [...this.rejectedByCode].sort(([a], [b]) => a.localeCompare(b)),
      ),
      deadLettered: this.deadLettered,
      retries: this.retries,
      commits: this.commits,
      assignedPartitions: [...this.assigned],
      lag: Object.fromEntries(
        [...this.lag].sort(([a], [b]) => a - b).map(([p, n]) => [String(p), n]),
      ),
    };
  }
}
