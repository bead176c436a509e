import type { PgEventStore } from '@app/event-store';
import { loadConfig, SystemClock } from '@app/platform';
import { DecisionStateCache } from '../../apps/monitor/src/ingestion/record-events/decision-state-cache';
import { RecordEventsHandler } from '../../apps/monitor/src/ingestion/record-events/record-events.handler';

/**
 * RecordEventsHandler as the bench's in-process measures call it: no Nest, no metrics, the
 * decision-state cache sized as the service sizes its own (DECISION_CACHE_MB,
 * DECISION_CACHE_PACKED_MB, README).
 */
export function benchHandler(store: PgEventStore): {
  handler: RecordEventsHandler;
  cache: DecisionStateCache;
} {
  const config = loadConfig(process.env);
  const cache = new DecisionStateCache(config.decisionCacheMb, config.decisionCachePackedMb);
  return { handler: new RecordEventsHandler(store, new SystemClock(), undefined, cache), cache };
}

/** Where the decision states came from (DecisionStateCache.taken), as shares of all taken. */
export function decisionStatesNote(taken: DecisionStateCache['taken']): string {
  const { live, packed, missed } = taken;
  const all = live + packed + missed;
  const pct = (n: number) => `${all === 0 ? 0 : Math.round((1000 * n) / all) / 10} %`;
  return `decision states: ${pct(live)} remembered, ${pct(packed)} packed, ${pct(missed)} read from the store`;
}
