import { Injectable } from '@nestjs/common';
import { Metrics } from '@app/platform';
import type { Counter } from 'prom-client';
import type { IngestItem, IngestOutcome } from './record-events.command';

/**
 * `ingestion_events_total{path,outcome,code}`: the outcome of every event RecordEventsCommand
 * decided, by the door it came through (`path`: http, kafka, inspector for exemptions) and,
 * for rejections, the error code. `ingestion_append_conflicts_total{reason}`: rounds that lost
 * a race to another writer and were decided again.
 */
@Injectable()
export class IngestionMetrics {
  private readonly events: Counter<'path' | 'outcome' | 'code'>;
  private readonly conflicts: Counter<'reason'>;

  constructor(metrics: Metrics) {
    this.events = metrics.counter({
      name: 'ingestion_events_total',
      help: 'Events decided by RecordEventsCommand, by door (path), outcome (accepted, duplicate, rejected) and, for rejected ones, error code.',
      labelNames: ['path', 'outcome', 'code'],
    });
    this.conflicts = metrics.counter({
      name: 'ingestion_append_conflicts_total',
      help: 'Rounds of RecordEventsCommand that wrote nothing because another writer took a stream version or an eventId first, or PostgreSQL reported a deadlock or serialization failure (reason: stream_version, event_id, transient); each is decided again on stored state.',
      labelNames: ['reason'],
    });
  }

  conflict(reason: 'stream_version' | 'event_id' | 'transient'): void {
    this.conflicts.inc({ reason });
  }

  record(items: IngestItem[], outcomes: IngestOutcome[]): void {
    for (let i = 0; i < outcomes.length; i++) {
      const o = outcomes[i];
      const path = items[i].source.kind;
      this.events.inc(
        o.status === 'rejected'
          ? { path, outcome: o.status, code: o.code ?? 'UNKNOWN' }
          : { path, outcome: o.status },
      );
    }
  }
}
