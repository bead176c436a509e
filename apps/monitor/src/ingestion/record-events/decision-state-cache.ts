import type { DecisionState } from '@app/domain';
import { DEFAULT_DECISION_CACHE_STREAMS } from '@app/platform';
import { LRUCache } from 'lru-cache';

/**
 * The decision states (version, event ids, identities, owner) of the contracts this instance
 * appended to or read last, so that the next batch on a contract need not load its history.
 * Only committed states enter it. It is never the authority: an entry may be stale (another
 * instance or writer appended since), and then the append's COPY fails on the unique key
 * `(stream_id, stream_version)` and the batch is decided again on stored state; refusals are
 * never decided on a remembered state (RecordEventsHandler.round).
 */
export class DecisionStateCache {
  private readonly lru: LRUCache<string, DecisionState> | null;

  constructor(max = DEFAULT_DECISION_CACHE_STREAMS) {
    this.lru = max > 0 ? new LRUCache<string, DecisionState>({ max }) : null;
  }

  get(contractId: string): DecisionState | undefined {
    return this.lru?.get(contractId);
  }

  /** Keeps a committed state, unless a later one of the same contract is already kept. */
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
