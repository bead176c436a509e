import { Injectable } from '@nestjs/common';
import { Metrics } from '@app/platform';
import type { Counter } from 'prom-client';
import type { IngestItem, IngestOutcome } from './record-events.command';

/**
 * `ingestion_events_total{path,outcome,code}`: the outcome of every event RecordEventsCommand
 * decided, by the door it came through (`path`: http, kafka, inspector for exemptions) and,
 * for rejections, the error code.
 */
@Injectable()
export class IngestionMetrics {
  private readonly events: Counter<'path' | 'outcome' | 'code'>;

  constructor(metrics: Metrics) {
    this.events = metrics.counter({
      name: 'ingestion_events_total',
      help: 'Events decided by RecordEventsCommand, by door (path), outcome (accepted, duplicate, rejected) and, for rejected ones, error code.',
      labelNames: ['path', 'outcome', 'code'],
    });
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
