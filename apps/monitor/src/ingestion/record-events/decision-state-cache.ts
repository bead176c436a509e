import type { DecisionState, StreamEventSummary } from '@app/domain';
import { DEFAULT_DECISION_CACHE_MB, DEFAULT_DECISION_CACHE_PACKED_MB } from '@app/platform';
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
 * A decision state packed into a few strings instead of maps of objects and a string per
 * value (about a quarter of the bytes: 612–661 for ten events). Per event, in the map's
 * order: its id in `ids`, its identity in `identities` (SAME_AS_TYPE for a singleton's, ''
 * for none; joined by U+0000, which no stored text holds: validation refuses it), and one
 * character of `meta`: the type's index × 4 + 2 if retracted + 1 if it holds its identity
 * (the `identities` map: its values are always events claiming the key).
 */
export interface PackedDecisionState {
  version: number;
  owner: string | null;
  /** the event ids, each ID_LENGTH characters, back to back (else joined: see `idLength`) */
  ids: string;
  /** ID_LENGTH, or 0 when some id has another length and `ids` is joined by U+0000 */
  idLength: number;
  identities: string;
  meta: string;
  /** per event, the event an EventRetracted retracts, '' for none; null when the stream has none */
  retracts: string | null;
  /** target, retraction, … (retracted before they arrived); '' for none */
  ahead: string;
}

const SEP = '\u0000';
const SAME_AS_TYPE = '\u0001';
/** a UUID's canonical text, as stored event ids are */
const ID_LENGTH = 36;
const join = (values: string[]) => values.join(SEP);
const split = (joined: string) => (joined === '' ? [] : joined.split(SEP));

/**
 * Approximate heap bytes of a packed state (string characters, headers): measured with
 * `--expose-gc` on states of the generated feed's shape (bench/generator.ts).
 */
function packedSizeOf(p: PackedDecisionState): number {
  const chars =
    p.ids.length + p.identities.length + p.meta.length + (p.retracts?.length ?? 0) + p.ahead.length;
  return 200 + chars;
}

/** The event types seen, by index. */
const TYPES: string[] = [];
const TYPE_INDEX = new Map<string, number>();
function typeIndex(type: string): number {
  let i = TYPE_INDEX.get(type);
  if (i === undefined) {
    i = TYPES.push(type) - 1;
    if (i > 4000) throw new Error('more than 4,000 event types');
    TYPE_INDEX.set(type, i);
  }
  return i;
}

export function packDecisionState(s: DecisionState): PackedDecisionState {
  const ids: string[] = [];
  const identities: string[] = [];
  const retracts: string[] = [];
  let meta = '';
  let anyRetracts = false;
  let fixed = true;
  for (const [id, e] of s.events) {
    ids.push(id);
    if (id.length !== ID_LENGTH) fixed = false;
    identities.push(e.identity === null ? '' : e.identity === e.type ? SAME_AS_TYPE : e.identity);
    const holds = e.identity !== null && s.identities.get(e.identity) === id;
    meta += String.fromCharCode(typeIndex(e.type) * 4 + (e.retracted ? 2 : 0) + (holds ? 1 : 0));
    retracts.push(e.retracts ?? '');
    if (e.retracts !== undefined) anyRetracts = true;
  }
  const ahead: string[] = [];
  for (const [target, id] of s.retractedAhead) ahead.push(target, id);
  return {
    version: s.version,
    owner: s.owner,
    ids: fixed ? ids.join('') : join(ids),
    idLength: fixed ? ID_LENGTH : 0,
    identities: join(identities),
    meta,
    retracts: anyRetracts ? join(retracts) : null,
    ahead: join(ahead),
  };
}

export function unpackDecisionState(p: PackedDecisionState): DecisionState {
  const n = p.meta.length;
  const joinedIds = p.idLength === 0 ? split(p.ids) : null;
  const identities = n === 0 ? [] : p.identities.split(SEP);
  const retracts = p.retracts === null ? null : p.retracts.split(SEP);
  const events = new Map<string, StreamEventSummary>();
  const byIdentity = new Map<string, string>();
  for (let i = 0; i < n; i++) {
    const id = joinedIds ? joinedIds[i] : p.ids.slice(i * p.idLength, (i + 1) * p.idLength);
    const m = p.meta.charCodeAt(i);
    const type = TYPES[m >> 2];
    const packedIdentity = identities[i];
    const identity =
      packedIdentity === '' ? null : packedIdentity === SAME_AS_TYPE ? type : packedIdentity;
    const e: StreamEventSummary = { eventId: id, type, identity, retracted: (m & 2) !== 0 };
    if (retracts !== null && retracts[i] !== '') e.retracts = retracts[i];
    events.set(id, e);
    if ((m & 1) !== 0) byIdentity.set(identity!, id);
  }
  const ahead = split(p.ahead);
  const retractedAhead = new Map<string, string>();
  for (let i = 0; i < ahead.length; i += 2) retractedAhead.set(ahead[i], ahead[i + 1]);
  return { version: p.version, owner: p.owner, events, identities: byIdentity, retractedAhead };
}

/**
 * The decision states (version, event ids, identities, owner) of the contracts this instance
 * appended to or read last, so that the next batch on a contract need not load its history.
 * Two tiers, each least recently used out first and bounded in bytes: the states as they are
 * (DECISION_CACHE_MB), and below them the states the first tier pushed out, packed into about a
 * quarter of the bytes (DECISION_CACHE_PACKED_MB). A state is packed only when the first tier
 * evicts it and unpacked only when a batch takes it from the second, where the alternative
 * is reading the contract's history from the store. Only committed states enter either. A
 * contract is in one tier at most.
 *
 * It is never the authority: an entry may be stale (another instance or writer appended
 * since), and then the append's COPY fails on the unique key `(stream_id, stream_version)` and
 * the batch is decided again on stored state; refusals and duplicates are never decided on a
 * remembered state alone (RecordEventsHandler.round).
 *
 * A state is handed over, not copied: `take` removes it and the taker advances it in place;
 * `set` gives a committed one back. Until session 9 every state was kept packed and unpacked
 * on every read: that was 16 % of the command path's Node time, and handing the maps over
 * instead measured +24 % on the command path and +16 % over HTTP. A state taken by one batch
 * is absent for any other until it is given back, so two batches can never advance the same
 * object (the second one loads the contract from the store). The packed tier came in
 * session 13, for the large feed, where the first tier's ~13,000 contracts held a third of
 * the contracts the next batches touched (docs/benchmarks.md).
 */
export class DecisionStateCache {
  private readonly live: LRUCache<string, DecisionState> | null;
  private readonly packed: LRUCache<string, PackedDecisionState> | null;

  constructor(maxMb = DEFAULT_DECISION_CACHE_MB, packedMb = DEFAULT_DECISION_CACHE_PACKED_MB) {
    this.packed =
      packedMb > 0
        ? new LRUCache<string, PackedDecisionState>({
            maxSize: packedMb * 1024 * 1024,
            sizeCalculation: packedSizeOf,
          })
        : null;
    const packed = this.packed;
    this.live =
      maxMb > 0
        ? new LRUCache<string, DecisionState>({
            maxSize: maxMb * 1024 * 1024,
            sizeCalculation: sizeOf,
            // pushed out for room (not taken, replaced or deleted): down to the packed tier
            dispose: packed
              ? (state, id, reason) => {
                  if (reason === 'evict') packed.set(id, packDecisionState(state));
                }
              : undefined,
          })
        : null;
  }

  /**
   * What `take` found since this cache was made: a state as it is, a packed one, nothing (the
   * caller reads the history). `ingestion_decision_states_total` and the bench report them.
   */
  readonly taken = { live: 0, packed: 0, missed: 0 };

  /** The remembered state, now the caller's (removed from the cache), or undefined. */
  take(contractId: string): DecisionState | undefined {
    const state = this.live?.get(contractId);
    if (state !== undefined) {
      this.live!.delete(contractId);
      this.taken.live++;
      return state;
    }
    const p = this.packed?.get(contractId);
    if (p === undefined) {
      this.taken.missed++;
      return undefined;
    }
    this.packed!.delete(contractId);
    this.taken.packed++;
    return unpackDecisionState(p);
  }

  /**
   * Keeps a committed state, unless a later one of the same contract is already kept. The
   * caller gives it up: it must not change it afterwards.
   */
  set(contractId: string, state: DecisionState): void {
    const kept = this.live?.peek(contractId) ?? this.packed?.peek(contractId);
    if (kept && kept.version > state.version) return;
    if (this.live) {
      this.packed?.delete(contractId);
      this.live.set(contractId, state);
    } else {
      this.packed?.set(contractId, packDecisionState(state));
    }
  }

  delete(contractId: string): void {
    this.live?.delete(contractId);
    this.packed?.delete(contractId);
  }

  /** Contracts remembered, in both tiers. */
  get size(): number {
    const { live, packed } = this.sizes;
    return live + packed;
  }

  /** Contracts remembered as they are, and packed. */
  get sizes(): { live: number; packed: number } {
    return { live: this.live?.size ?? 0, packed: this.packed?.size ?? 0 };
  }
}
