import {
  decide,
  emptyDecisionState,
  evolveInPlace,
  type DecideInput,
  type DecisionCode,
  type DecisionOrigin,
  type DecisionState,
} from './decider';

/** A fact of a batch, with the contract (stream) it is for. */
export interface BatchFact extends DecideInput {
  contractId: string;
}

/** What the store knows when a batch is decided. */
export interface BatchHistories {
  /** each touched contract's decision state, folded from its stored history */
  states: Map<string, DecisionState>;
  /** for retraction targets that are stored: target eventId (lower case) → its contract */
  storedIn: ReadonlyMap<string, string>;
}

export interface BatchDecision<F extends BatchFact> {
  /** per contract: the version it must still have, and its accepted facts in batch order */
  appends: Map<string, { expectedVersion: number; facts: F[] }>;
  /** refused facts, in batch order */
  rejected: Array<{ fact: F; code: DecisionCode; message: string }>;
}

/**
 * Decides a batch of new facts (duplicates already removed) against the stored histories,
 * in batch order: a fact accepted earlier in the batch counts for the ones after it. Pure:
 * `histories.states` is the caller's working state and is advanced in place.
 */
export function decideBatch<F extends BatchFact>(
  facts: F[],
  histories: BatchHistories,
  origin: DecisionOrigin,
): BatchDecision<F> {
  const elsewhere = retractionsOfOtherContracts(facts, histories.storedIn);
  const appends = new Map<string, { expectedVersion: number; facts: F[] }>();
  const rejected: BatchDecision<F>['rejected'] = [];
  for (const fact of facts) {
    const sid = fact.contractId;
    let state = histories.states.get(sid);
    if (!state) histories.states.set(sid, (state = emptyDecisionState()));
    const decision = decide(fact, state, origin, { storedElsewhere: elsewhere.get(sid) });
    if (!decision.ok) {
      rejected.push({ fact, code: decision.code, message: decision.message });
      continue;
    }
    let append = appends.get(sid);
    // the stored version: this contract's state before its first accepted fact of the batch
    if (!append) appends.set(sid, (append = { expectedVersion: state.version, facts: [] }));
    evolveInPlace(state, fact);
    append.facts.push(fact);
  }
  return { appends, rejected };
}

/** The retraction targets of a batch (lower case): the store says where each is stored. */
export function retractionTargets(facts: BatchFact[]): string[] {
  const targets = new Set<string>();
  for (const f of facts)
    if (f.type === 'EventRetracted') targets.add(String(f.data.retractedEventId).toLowerCase());
  return [...targets];
}

/** contract → the targets its retractions name that are stored in another contract. */
function retractionsOfOtherContracts(
  facts: BatchFact[],
  storedIn: ReadonlyMap<string, string>,
): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const f of facts) {
    if (f.type !== 'EventRetracted') continue;
    const target = String(f.data.retractedEventId).toLowerCase();
    const home = storedIn.get(target);
    if (home === undefined || home === f.contractId) continue;
    let set = out.get(f.contractId);
    if (!set) out.set(f.contractId, (set = new Set()));
    set.add(target);
  }
  return out;
}
