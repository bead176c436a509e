import { shareAnswer } from '@app/platform';

/**
 * Characters of JSON text one cache keeps by default: 8 M (about 16 MB for text with Chinese
 * names, twice that with the answers' objects).
 */
const DEFAULT_MAX_CHARS = 8_000_000;

/**
 * Answers kept per key (the filter set, the caller's scope and the summary version they were
 * computed from: `summary_state.version`, moved by every projector write, so an entry never
 * outlives the state it counts): unit rankings, the overview, trends, regions, unit compliance,
 * violation pages. An answer is shared (shareAnswer of @app/platform): never changed once
 * computed, it goes out as its JSON text made once. The most recently used `max` are kept,
 * and no more than `maxChars` characters of their texts; a computation that fails is
 * forgotten, so the next request computes again. Concurrent requests for one key share one
 * computation.
 */
export class UnitRankingCache<T> {
  private readonly entries = new Map<string, Promise<T>>();
  /** the JSON text's length of each computed entry, and their sum */
  private readonly sizes = new Map<string, number>();
  private chars = 0;

  private readonly max: number;
  private readonly maxChars: number;
  private readonly share: boolean;

  constructor(
    opts: {
      /** entries kept at most (16) */
      max?: number;
      /** characters of JSON text kept at most, least recently used out first (8 M) */
      maxChars?: number;
      /** false for values that are never an answer: kept, not serialised, not counted (true) */
      share?: boolean;
    } = {},
  ) {
    this.max = opts.max ?? 16;
    this.maxChars = opts.maxChars ?? DEFAULT_MAX_CHARS;
    this.share = opts.share ?? true;
  }

  get(key: string, compute: () => Promise<T>): Promise<T> {
    let entry = this.entries.get(key);
    if (entry) {
      this.entries.delete(key); // most recently used last
    } else {
      // shared: handed to every request for this key as it is (its JSON text made once)
      const made: Promise<T> = compute().then((value) => {
        if (!this.share) return value;
        const n = shareAnswer(value);
        if (this.entries.get(key) === made) {
          this.sizes.set(key, n);
          this.chars += n;
          this.trim(key);
        }
        return value;
      });
      entry = made;
      entry.catch(() => {
        if (this.entries.get(key) === made) this.drop(key);
      });
      if (this.entries.size >= this.max) this.drop(this.entries.keys().next().value!);
    }
    this.entries.set(key, entry);
    return entry;
  }

  private drop(key: string): void {
    this.entries.delete(key);
    this.chars -= this.sizes.get(key) ?? 0;
    this.sizes.delete(key);
  }

  /** Drops the least recently used computed entries, never `keep`, until within maxChars. */
  private trim(keep: string): void {
    for (const k of [...this.entries.keys()]) {
      if (this.chars <= this.maxChars) return;
      if (k !== keep && this.sizes.has(k)) this.drop(k);
    }
  }
}
