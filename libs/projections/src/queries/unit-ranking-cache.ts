import { shareAnswer } from '@app/platform';

/**
 * Answers kept per key (the filter set, the caller's scope and the summary version they were
 * computed from: `summary_state.version`, moved by every projector write, so an entry never
 * outlives the state it counts): unit rankings, the overview, trends, regions, unit compliance,
 * violation pages. An answer is shared (shareAnswer of @app/platform): never changed once
 * computed, it goes out as its JSON text made once. The most recently used `max` are kept; a
 * computation that fails is forgotten, so the next request computes again. Concurrent
 * requests for one key share one computation.
 */
export class UnitRankingCache<T> {
  private readonly entries = new Map<string, Promise<T>>();

  constructor(private readonly max = 16) {}

  get(key: string, compute: () => Promise<T>): Promise<T> {
    let entry = this.entries.get(key);
    if (entry) {
      this.entries.delete(key); // most recently used last
    } else {
      // shared: handed to every request for this key as it is (its JSON text made once)
      entry = compute().then(shareAnswer);
      entry.catch(() => this.entries.delete(key));
      if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
    }
    this.entries.set(key, entry);
    return entry;
  }
}
