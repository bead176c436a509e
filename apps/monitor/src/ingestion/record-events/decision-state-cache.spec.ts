import {
  decide,
  emptyDecisionState,
  evolveInPlace,
  type DecideInput,
  type DecisionState,
} from '@app/domain';
import fc from 'fast-check';
import { DecisionStateCache, packDecisionState, unpackDecisionState } from './decision-state-cache';

/** Random fact streams over a few ids, so that retractions hit, miss, and arrive ahead. */
const ids = ['a', 'b', 'c', 'd', 'e', 'f'].map((c) => `${c.repeat(8)}-0000-4000-8000-000000000000`);
const fact: fc.Arbitrary<DecideInput> = fc.oneof(
  fc.record({
    eventId: fc.constantFrom(...ids, 'not-a-uuid', 'G'),
    type: fc.constantFrom('AwardNoticeIssued', 'ContractSigned', 'ContractFiled'),
    data: fc.constant({}),
  }),
  fc.record({
    eventId: fc.constantFrom(...ids),
    type: fc.constant('InvoiceReceived'),
    data: fc.record({ invoiceNo: fc.constantFrom('FP1', 'FP2') }),
  }),
  fc.record({
    eventId: fc.constantFrom(...ids),
    type: fc.constant('AcceptanceCompleted'),
    data: fc.record({ passed: fc.boolean() }),
  }),
  fc.record({
    eventId: fc.constantFrom(...ids),
    type: fc.constant('EventRetracted'),
    data: fc.record({ retractedEventId: fc.constantFrom(...ids, ids[0].toUpperCase()) }),
  }),
);

/** A stream's state: its events' ids are unique, as the store's key `event_id` makes them. */
function fold(facts: DecideInput[], owner: string | null): DecisionState {
  const state = emptyDecisionState();
  for (const f of facts)
    if (!state.events.has(f.eventId.toLowerCase()))
      evolveInPlace(state, { ...f, platformId: owner ?? undefined });
  return state;
}

/** A state of ten invoices, about the generated feed's ten events a contract. */
function tenEvents(i: number): DecisionState {
  const s = emptyDecisionState();
  for (let k = 0; k < 10; k++)
    evolveInPlace(s, {
      eventId: `${String(i).padStart(8, '0')}-0000-4000-8000-00000000000${k}`,
      type: 'InvoiceReceived',
      data: { invoiceNo: `FP${k}` },
    });
  return s;
}

describe('packDecisionState / unpackDecisionState', () => {
  it('give back the same state, which decides every next fact as the original does', () => {
    fc.assert(
      fc.property(
        fc.array(fact, { maxLength: 30 }),
        fc.option(fc.string()),
        fact,
        fc.option(fc.string()),
        (facts, owner, next, sender) => {
          const state = fold(facts, owner);
          const back = unpackDecisionState(packDecisionState(state));
          expect(back).toEqual(state);
          expect([...back.events.keys()]).toEqual([...state.events.keys()]);
          const cmd = { ...next, platformId: sender ?? undefined };
          expect(decide(cmd, back, 'ingestion')).toEqual(decide(cmd, state, 'ingestion'));
          // and advances as the original does
          if (!state.events.has(cmd.eventId.toLowerCase())) {
            evolveInPlace(back, cmd);
            evolveInPlace(state, cmd);
            expect(back).toEqual(state);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('DecisionStateCache', () => {
  it('hands a kept state over: take gives the same state and leaves nothing behind', () => {
    fc.assert(
      fc.property(fc.array(fact, { maxLength: 30 }), fc.option(fc.string()), (facts, owner) => {
        const state = emptyDecisionState();
        for (const f of facts) evolveInPlace(state, { ...f, platformId: owner ?? undefined });
        const cache = new DecisionStateCache(1, 1);
        cache.set('C-1', state);
        const got = cache.take('C-1');
        expect(got).toBe(state);
        // the taker's now: no second batch can advance the same object
        expect(cache.take('C-1')).toBeUndefined();
        expect(cache.size).toBe(0);
      }),
      { numRuns: 200 },
    );
  });

  it('keeps the later of two committed states, forgets on delete, and is off at 0 MB', () => {
    const cache = new DecisionStateCache(1);
    const v1 = emptyDecisionState();
    evolveInPlace(v1, { eventId: ids[0], type: 'AwardNoticeIssued', data: {} });
    const v2 = emptyDecisionState();
    evolveInPlace(v2, { eventId: ids[0], type: 'AwardNoticeIssued', data: {} });
    evolveInPlace(v2, { eventId: ids[1], type: 'ContractSigned', data: {} });
    cache.set('C-1', v2);
    cache.set('C-1', v1);
    expect(cache.take('C-1')).toBe(v2);
    cache.set('C-1', v2);
    cache.delete('C-1');
    expect(cache.take('C-1')).toBeUndefined();
    const off = new DecisionStateCache(0, 0);
    off.set('C-1', v2);
    expect(off.take('C-1')).toBeUndefined();
    // packed only: kept packed, given back as a copy
    const packedOnly = new DecisionStateCache(0, 1);
    packedOnly.set('C-1', v2);
    packedOnly.set('C-1', v1);
    const got = packedOnly.take('C-1');
    expect(got).toEqual(v2);
    expect(got).not.toBe(v2);
    expect(packedOnly.size).toBe(0);
  });

  it('packs what the first tier pushes out, gives it back from there, and keeps each contract once', () => {
    const cache = new DecisionStateCache(1, 4);
    const kept = new Map<string, DecisionState>();
    for (let i = 0; i < 3000; i++) {
      const s = tenEvents(i);
      kept.set(`C-${i}`, s);
      cache.set(`C-${i}`, s);
    }
    const { live, packed } = cache.sizes;
    // 1 MB as they are (~2.6 KB each), the rest packed (4 MB: all of the 3,000)
    expect(live).toBeGreaterThan(300);
    expect(live).toBeLessThan(500);
    expect(live + packed).toBe(3000);
    // the oldest went down: packed, then unpacked into a copy equal to the committed state
    const first = cache.take('C-0')!;
    expect(first).not.toBe(kept.get('C-0'));
    expect(first).toEqual(kept.get('C-0'));
    expect(cache.take('C-0')).toBeUndefined();
    // the newest is still as it was given
    expect(cache.take('C-2999')).toBe(kept.get('C-2999'));
    expect(cache.size).toBe(2998);
    // a later state given back replaces the packed one, an earlier one does not
    const later = tenEvents(1);
    evolveInPlace(later, { eventId: ids[0], type: 'ContractSigned', data: {} });
    cache.set('C-1', later);
    cache.set('C-1', kept.get('C-1')!);
    expect(cache.size).toBe(2998);
    expect(cache.take('C-1')).toBe(later);
    // and one that is packed is not replaced by an earlier one either
    const packedLater = tenEvents(2);
    evolveInPlace(packedLater, { eventId: ids[0], type: 'ContractSigned', data: {} });
    const other = new DecisionStateCache(1, 4);
    other.set('C-2', packedLater);
    for (let i = 10_000; i < 11_000; i++) other.set(`C-${i}`, tenEvents(i)); // pushes C-2 down
    other.set('C-2', tenEvents(2));
    expect(other.take('C-2')).toEqual(packedLater);
    other.delete('C-10000');
    expect(other.take('C-10000')).toBeUndefined();
  });

  it('is bounded in bytes: the least recently used go first', () => {
    const cache = new DecisionStateCache(1, 0);
    for (let i = 0; i < 5000; i++) cache.set(`C-${i}`, tenEvents(i));
    // 1 MB at ~2.6 KB for a contract of ten events
    expect(cache.size).toBeGreaterThan(300);
    expect(cache.size).toBeLessThan(500);
    expect(cache.take('C-4999')).toBeDefined();
    expect(cache.take('C-0')).toBeUndefined();
  });
});
