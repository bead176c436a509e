import type { DecisionState } from '@app/domain';
import { DEFAULT_DECISION_CACHE_MB } from '@app/platform';
import { LRUCache } from 'lru-cache';

/**
 * Approximate heap bytes of a decision state kept as it is (its maps, their entries, the
 * event ids): measured with `--expose-gc` on states of the generated feed's shape, 756 bytes
 * for one event, 1,440 for five, 2,546 for ten, 4,241 for twenty.
 */
function sizeOf(s: DecisionState): number {
  return 600 + 200 * s.events.size;
}

/**
 * The decision states (version, event ids, identities, owner) of the contracts this instance
 * appended to or read last, so that the next batch on a contract need not load its history;
 * least recently used out first, bounded in bytes (DECISION_CACHE_MB). Only committed states
 * enter it. It is never the authority: an entry may be stale (another instance or writer
 * appended since), and then the append's COPY fails on the unique key
 * `(stream_id, stream_version)` and the batch is decided again on stored state; refusals and
 * duplicates are never decided on a remembered state alone (RecordEventsHandler.round).
 *
 * A state is handed over, not copied: `take` removes it and the taker advances it in place;
 * `set` gives a committed one back. Until session 9 each state was kept packed (joined
 * strings, under 1 KB for ten events) and unpacked into new maps on every read: that packing
 * and unpacking was 16 % of the command path's Node time, and handing the maps over instead
 * measured +24 % on the command path and +16 % over HTTP, for 2.5× the bytes per contract. A
 * state taken by one batch is absent for any other until it is given back, so two batches can
 * never advance the same object (the second one loads the contract from the store).
 */
export class DecisionStateCache {
  private readonly lru: LRUCache<string, DecisionState> | null;

  constructor(maxMb = DEFAULT_DECISION_CACHE_MB) {
    this.lru =
      maxMb > 0
        ? new LRUCache<string, DecisionState>({
            maxSize: maxMb * 1024 * 1024,
            sizeCalculation: sizeOf,
          })
        : null;
  }

  /** The remembered state, now the caller's (removed from the cache), or undefined. */
  take(contractId: string): DecisionState | undefined {
    const state = this.lru?.get(contractId);
    if (state !== undefined) this.lru!.delete(contractId);
    return state;
  }

  /**
   * Keeps a committed state, unless a later one of the same contract is already kept. The
   * caller gives it up: it must not change it afterwards.
   */
  set(contractId: string, state: DecisionState): void {
    if (!this.lru) return;
    const kept = this.lru.peek(contractId);
    if (!kept || kept.version <= state.version) this.lru.set(contractId, state);
  }

  delete(contractId: string): void {
    this.lru?.delete(contractId);
  }

  get size(): number {
    return this.lru?.size ?? 0;
  }
}
