import { decideBatch, retractionTargets, type BatchFact } from './decide-batch';
import { DecisionCodes, emptyDecisionState, evolveInPlace, type DecisionState } from './decider';

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const fact = (n: number, contractId: string, type: string, data = {}, platformId = 'p1') =>
  ({ eventId: id(n), contractId, type, data, platformId }) as BatchFact;
const signed = (n: number, c: string, p?: string) => fact(n, c, 'ContractSigned', {}, p);
const retraction = (n: number, c: string, target: number) =>
  fact(n, c, 'EventRetracted', { retractedEventId: id(target).toUpperCase(), reason: 'x' });

/** Given stored histories (contract → facts in stream order). */
function given(stored: Record<string, BatchFact[]>): Map<string, DecisionState> {
  const states = new Map<string, DecisionState>();
  for (const [c, facts] of Object.entries(stored)) {
    const s = emptyDecisionState();
    for (const f of facts) evolveInPlace(s, f);
    states.set(c, s);
  }
  return states;
}

const codes = (d: ReturnType<typeof decideBatch>) =>
  d.rejected.map((r) => [r.fact.eventId, r.code]);

describe('decideBatch: a batch against the stored histories, in batch order', () => {
  it('given stored histories, when a batch arrives, then accepted facts are grouped per contract with the version each must still have', () => {
    const states = given({ A: [fact(1, 'A', 'AwardNoticeIssued')] });
    const d = decideBatch(
      [signed(2, 'A'), fact(3, 'B', 'AwardNoticeIssued'), fact(4, 'A', 'ContractFiled')],
      { states, storedIn: new Map() },
      'ingestion',
    );
    expect(d.rejected).toEqual([]);
    expect(
      [...d.appends].map(([c, a]) => [c, a.expectedVersion, a.facts.map((f) => f.eventId)]),
    ).toEqual([
      ['A', 1, [id(2), id(4)]],
      ['B', 0, [id(3)]],
    ]);
  });

  it('given nothing stored, when a batch signs a contract twice, then the second is a conflict with the first of the batch', () => {
    const d = decideBatch(
      [signed(1, 'A'), signed(2, 'A')],
      { states: new Map(), storedIn: new Map() },
      'ingestion',
    );
    expect(codes(d)).toEqual([[id(2), DecisionCodes.ALREADY_SIGNED]]);
    expect(d.appends.get('A')!.facts.map((f) => f.eventId)).toEqual([id(1)]);
  });

  it('given an event stored in contract B, when contract A retracts it, then it is refused; when B retracts it, then it is accepted', () => {
    const states = given({ B: [signed(1, 'B')] });
    const batch = [retraction(2, 'A', 1), retraction(3, 'B', 1)];
    expect(retractionTargets(batch)).toEqual([id(1)]);
    const d = decideBatch(batch, { states, storedIn: new Map([[id(1), 'B']]) }, 'ingestion');
    expect(codes(d)).toEqual([[id(2), DecisionCodes.RETRACTED_EVENT_NOT_FOUND]]);
    expect(d.appends.get('B')!.facts.map((f) => f.eventId)).toEqual([id(3)]);
  });

  it('given a contract created earlier in the same batch by p1, when p2 adds to it, then p2 is refused', () => {
    const d = decideBatch(
      [fact(1, 'A', 'AwardNoticeIssued', {}, 'p1'), signed(2, 'A', 'p2')],
      { states: new Map(), storedIn: new Map() },
      'ingestion',
    );
    expect(codes(d)).toEqual([[id(2), DecisionCodes.OWNED_BY_ANOTHER_PLATFORM]]);
  });

  it('a platform may not record an exemption; an inspector may', () => {
    const states = given({ A: [signed(1, 'A')] });
    const exemption = fact(2, 'A', 'ObligationExempted', { rule: 'filing', reason: 'r' });
    const byPlatform = decideBatch([exemption], { states, storedIn: new Map() }, 'ingestion');
    expect(codes(byPlatform)).toEqual([[id(2), DecisionCodes.NOT_ALLOWED_ON_INGESTION]]);
    const byInspector = decideBatch(
      [{ ...exemption, platformId: undefined }],
      { states: given({ A: [signed(1, 'A')] }), storedIn: new Map() },
      'inspector',
    );
    expect(byInspector.rejected).toEqual([]);
  });
});
