import { Injectable, Optional } from '@nestjs/common';
import { Metrics } from '@app/platform';
import type { Counter } from 'prom-client';
import { DecisionStateCache } from './decision-state-cache';
import type { IngestItem, IngestOutcome } from './record-events.command';

/**
 * `ingestion_events_total{path,outcome,code}`: the outcome of every event RecordEventsCommand
 * decided, by the door it came through (`path`: http, kafka, inspector for exemptions) and,
 * for rejections, the error code. `ingestion_append_conflicts_total{reason}`: rounds that lost
 * a race to another writer and were decided again. `ingestion_decision_states_total{from}`:
 * the contract states batches decided on, by where they came from (DecisionStateCache:
 * remembered as they are, remembered packed, or not remembered, so folded from the stored
 * history); `ingestion_decision_states_remembered{tier}`: how many the cache holds now.
 */
@Injectable()
export class IngestionMetrics {
  private readonly events: Counter<'path' | 'outcome' | 'code'>;
  private readonly conflicts: Counter<'reason'>;

  constructor(metrics: Metrics, @Optional() cache?: DecisionStateCache) {
    if (cache) {
      metrics.counter({
        name: 'ingestion_decision_states_total',
        help: "Contract decision states that batches decided on, by where they came from: remembered (as they are), packed (remembered packed, unpacked), store (not remembered: folded from the contract's stored history). A round decided again after a lost race reads every state from the store and is not counted here.",
        labelNames: ['from'],
        collect() {
          this.reset();
          this.inc({ from: 'remembered' }, cache.taken.live);
          this.inc({ from: 'packed' }, cache.taken.packed);
          this.inc({ from: 'store' }, cache.taken.missed);
        },
      });
      metrics.gauge({
        name: 'ingestion_decision_states_remembered',
        help: 'Contract decision states the ingestion cache holds, by tier: live (DECISION_CACHE_MB), packed (DECISION_CACHE_PACKED_MB).',
        labelNames: ['tier'],
        collect() {
          const { live, packed } = cache.sizes;
          this.set({ tier: 'live' }, live);
          this.set({ tier: 'packed' }, packed);
        },
      });
    }
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
