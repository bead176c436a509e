import { emptyDecisionState, evolveInPlace, type DecideInput } from '@app/domain';
import fc from 'fast-check';
import { DecisionStateCache } from './decision-state-cache';

/** Random fact streams over a few ids, so that retractions hit, miss, and arrive ahead. */
const ids = ['a', 'b', 'c', 'd', 'e', 'f'].map((c) => `${c.repeat(8)}-0000-4000-8000-000000000000`);
const fact: fc.Arbitrary<DecideInput> = fc.oneof(
  fc.record({
    eventId: fc.constantFrom(...ids),
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

describe('DecisionStateCache', () => {
  it('hands a kept state over: take gives the same state and leaves nothing behind', () => {
    fc.assert(
      fc.property(fc.array(fact, { maxLength: 30 }), fc.option(fc.string()), (facts, owner) => {
        const state = emptyDecisionState();
        for (const f of facts) evolveInPlace(state, { ...f, platformId: owner ?? undefined });
        const cache = new DecisionStateCache(1);
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
    const off = new DecisionStateCache(0);
    off.set('C-1', v2);
    expect(off.take('C-1')).toBeUndefined();
  });

  it('is bounded in bytes: the least recently used go first', () => {
    const cache = new DecisionStateCache(1);
    for (let i = 0; i < 5000; i++) {
      const s = emptyDecisionState();
      for (let k = 0; k < 10; k++)
        evolveInPlace(s, {
          eventId: `${String(i).padStart(8, '0')}-0000-4000-8000-00000000000${k}`,
          type: 'InvoiceReceived',
          data: { invoiceNo: `FP${k}` },
        });
      cache.set(`C-${i}`, s);
    }
    // 1 MB at ~2.6 KB for a contract of ten events
    expect(cache.size).toBeGreaterThan(300);
    expect(cache.size).toBeLessThan(500);
    expect(cache.take('C-4999')).toBeDefined();
    expect(cache.take('C-0')).toBeUndefined();
  });
});
