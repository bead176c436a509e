import type { DecisionState, StreamEventSummary } from '@app/domain';
import { DEFAULT_DECISION_CACHE_MB } from '@app/platform';
import { LRUCache } from 'lru-cache';

/**
 * A decision state as the cache keeps it: each field of the events as one string (the
 * values joined by U+0000, which no stored text holds: validation refuses it) or one byte
 * array, instead of maps of objects and a string per value. Measured on the generated feed
 * (about ten events a contract): ~3.0 KB a contract as maps, ~2.1 KB as arrays of the same
 * strings, well under 1 KB joined. Unpacked into new maps on every read (the reader's working
 * copy, which it advances in place).
 */
interface Packed {
  version: number;
  owner: string | null;
  n: number;
  ids: string;
  /** index into TYPES, per event */
  types: Uint8Array;
  /** per event: its identity, '' for none (an identity is never empty) */
  identities: string;
  /** 1 = retracted */
  retracted: Uint8Array;
  /** per event, the event an EventRetracted retracts, '' for none; null when the stream has none */
  retracts: string | null;
  /** identity, eventId, identity, eventId, … (the live holders) */
  holders: string;
  /** target, retraction, … (retracted before they arrived) */
  ahead: string;
}

const SEP = '\u0000';
const join = (values: string[]) => values.join(SEP);
const split = (joined: string) => (joined === '' ? [] : joined.split(SEP));

/** Approximate bytes of a packed state (string characters, byte arrays, headers). */
function sizeOf(p: Packed): number {
  const chars =
    p.ids.length +
    p.identities.length +
    (p.retracts?.length ?? 0) +
    p.holders.length +
    p.ahead.length;
  return 400 + chars + 2 * p.n;
}

/** The event types seen, by index (a handful: the index fits a byte). */
const TYPES: string[] = [];
const TYPE_INDEX = new Map<string, number>();
function typeIndex(type: string): number {
  let i = TYPE_INDEX.get(type);
  if (i === undefined) {
    i = TYPES.push(type) - 1;
    if (i > 255) throw new Error('more than 256 event types');
    TYPE_INDEX.set(type, i);
  }
  return i;
}

function pack(s: DecisionState): Packed {
  const n = s.events.size;
  const ids: string[] = [];
  const identities: string[] = [];
  const retracts: string[] = [];
  const types = new Uint8Array(n);
  const retracted = new Uint8Array(n);
  let anyRetracts = false;
  let i = 0;
  for (const [id, e] of s.events) {
    ids.push(id);
    types[i] = typeIndex(e.type);
    identities.push(e.identity ?? '');
    retracted[i] = e.retracted ? 1 : 0;
    retracts.push(e.retracts ?? '');
    if (e.retracts !== undefined) anyRetracts = true;
    i++;
  }
  const holders: string[] = [];
  for (const [identity, id] of s.identities) holders.push(identity, id);
  const ahead: string[] = [];
  for (const [target, id] of s.retractedAhead) ahead.push(target, id);
  return {
    version: s.version,
    owner: s.owner,
    n,
    ids: join(ids),
    types,
    identities: join(identities),
    retracted,
    retracts: anyRetracts ? join(retracts) : null,
    holders: join(holders),
    ahead: join(ahead),
  };
}

function unpack(p: Packed): DecisionState {
  const ids = split(p.ids);
  const identities = p.n === 0 ? [] : p.identities.split(SEP);
  const retracts = p.retracts === null ? null : p.retracts.split(SEP);
  const events = new Map<string, StreamEventSummary>();
  for (let i = 0; i < p.n; i++) {
    const e: StreamEventSummary = {
      eventId: ids[i],
      type: TYPES[p.types[i]],
      identity: identities[i] === '' ? null : identities[i],
      retracted: p.retracted[i] === 1,
    };
    if (retracts !== null && retracts[i] !== '') e.retracts = retracts[i];
    events.set(ids[i], e);
  }
  const holders = split(p.holders);
  const byIdentity = new Map<string, string>();
  for (let i = 0; i < holders.length; i += 2) byIdentity.set(holders[i], holders[i + 1]);
  const ahead = split(p.ahead);
  const retractedAhead = new Map<string, string>();
  for (let i = 0; i < ahead.length; i += 2) retractedAhead.set(ahead[i], ahead[i + 1]);
  return { version: p.version, owner: p.owner, events, identities: byIdentity, retractedAhead };
}

/**
 * The decision states (version, event ids, identities, owner) of the contracts this instance
 * appended to or read last, so that the next batch on a contract need not load its history;
 * least recently used out first, bounded in bytes (DECISION_CACHE_MB). Only committed states
 * enter it. It is never the authority: an entry may be stale (another instance or writer
 * appended since), and then the append's COPY fails on the unique key
 * `(stream_id, stream_version)` and the batch is decided again on stored state; refusals and
 * duplicates are never decided on a remembered state alone (RecordEventsHandler.round).
 */
export class DecisionStateCache {
  private readonly lru: LRUCache<string, Packed> | null;

  constructor(maxMb = DEFAULT_DECISION_CACHE_MB) {
    this.lru =
      maxMb > 0
        ? new LRUCache<string, Packed>({
            maxSize: maxMb * 1024 * 1024,
            sizeCalculation: sizeOf,
          })
        : null;
  }

  /** A working copy of the remembered state (the caller may advance it), or undefined. */
  get(contractId: string): DecisionState | undefined {
    const p = this.lru?.get(contractId);
    return p ? unpack(p) : undefined;
  }

  /** Keeps a committed state, unless a later one of the same contract is already kept. */
  set(contractId: string, state: DecisionState): void {
    if (!this.lru) return;
    const kept = this.lru.peek(contractId);
    if (!kept || kept.version <= state.version) this.lru.set(contractId, pack(state));
  }

  delete(contractId: string): void {
    this.lru?.delete(contractId);
  }

  get size(): number {
    return this.lru?.size ?? 0;
  }
}
