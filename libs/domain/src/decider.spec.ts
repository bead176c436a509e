import {
  decide,
  emptyDecisionState,
  evolveInPlace,
  type DecideContext,
  type DecideInput,
  type DecisionState,
} from './decider';

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const payment = (n: number, paymentId: string): DecideInput => ({
  eventId: id(n),
  type: 'PaymentMade',
  data: { paymentId },
});
const signed = (n: number): DecideInput => ({ eventId: id(n), type: 'ContractSigned', data: {} });
const retraction = (n: number, target: number): DecideInput => ({
  eventId: id(n),
  type: 'EventRetracted',
  data: { retractedEventId: id(target).toUpperCase(), reason: '录入错误' },
});

/** Feeds events in order; returns each decision's code ('ok' when accepted) and the state. */
function feed(events: DecideInput[], context: DecideContext = {}) {
  const state: DecisionState = emptyDecisionState();
  const codes = events.map((e) => {
    const d = decide(e, state, 'ingestion', context);
    if (!d.ok) return d.code;
    evolveInPlace(state, e);
    return 'ok';
  });
  return { codes, state };
}

const live = (s: DecisionState) =>
  [...s.events.values()]
    .filter((e) => !e.retracted && e.type !== 'EventRetracted')
    .map((e) => e.eventId)
    .sort();

function permutations<T>(xs: T[]): T[][] {
  if (xs.length <= 1) return [xs];
  return xs.flatMap((x, i) =>
    permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]),
  );
}

describe('decider: retractions in any arrival order (SPEC §2)', () => {
  it('accepts a retraction before its target; the target is void on arrival and holds no identity', () => {
    const { codes, state } = feed([retraction(2, 1), payment(1, 'P1'), payment(3, 'P1')]);
    expect(codes).toEqual(['ok', 'ok', 'ok']);
    expect(live(state)).toEqual([id(3)]);
    expect(state.identities.get('payment:P1')).toBe(id(3));
    expect(state.retractedAhead.size).toBe(0);
  });

  it('gives the same live facts for every order that sends the replacement after the retraction', () => {
    // payment P1 (wrong), its retraction, the corrected payment P1
    const facts = [payment(1, 'P1'), retraction(2, 1), payment(3, 'P1'), signed(4)];
    const orders = permutations(facts).filter(
      (o) => o.indexOf(facts[2]) > o.indexOf(facts[1]), // SPEC: a conflict until retracted
    );
    expect(orders.length).toBe(12);
    for (const o of orders) {
      const { codes, state } = feed(o);
      expect({ order: o.map((e) => e.eventId.slice(-1)), codes }).toEqual({
        order: o.map((e) => e.eventId.slice(-1)),
        codes: ['ok', 'ok', 'ok', 'ok'],
      });
      expect(live(state)).toEqual([id(3), id(4)]);
    }
  });

  it('refuses a second retraction of a target that has not arrived', () => {
    const { codes } = feed([retraction(2, 1), retraction(3, 1)]);
    expect(codes).toEqual(['ok', 'CONTRACT.EVENT_ALREADY_RETRACTED']);
  });

  it("refuses the retraction of an event stored in another contract's stream", () => {
    const { codes } = feed([retraction(2, 1)], { storedElsewhere: new Set([id(1)]) });
    expect(codes).toEqual(['CONTRACT.RETRACTED_EVENT_NOT_FOUND']);
  });

  it('still refuses a second singleton while the first is live, and a retraction of a retraction', () => {
    expect(feed([signed(1), signed(2)]).codes).toEqual(['ok', 'CONTRACT.ALREADY_SIGNED']);
    expect(feed([signed(1), retraction(2, 1), retraction(3, 2)]).codes).toEqual([
      'ok',
      'ok',
      'CONTRACT.RETRACTION_NOT_RETRACTABLE',
    ]);
    expect(feed([signed(1), retraction(2, 1), retraction(3, 1)]).codes).toEqual([
      'ok',
      'ok',
      'CONTRACT.EVENT_ALREADY_RETRACTED',
    ]);
  });
});

describe('decider: a contract belongs to the platform that created it', () => {
  const from = (e: DecideInput, platformId: string): DecideInput => ({ ...e, platformId });

  it('given a contract created by p1, when p2 sends a fact or a retraction, then both are refused', () => {
    const { codes, state } = feed([
      from(signed(1), 'p1'),
      from(payment(2, 'P1'), 'p2'),
      from(retraction(3, 1), 'p2'),
      from(payment(4, 'P2'), 'p1'),
    ]);
    expect(codes).toEqual([
      'ok',
      'CONTRACT.OWNED_BY_ANOTHER_PLATFORM',
      'CONTRACT.OWNED_BY_ANOTHER_PLATFORM',
      'ok',
    ]);
    expect(state.owner).toBe('p1');
  });

  it('given a contract whose first event named no platform, then any platform may add to it', () => {
    const { codes, state } = feed([signed(1), from(payment(2, 'P1'), 'p2')]);
    expect(codes).toEqual(['ok', 'ok']);
    expect(state.owner).toBeNull();
  });

  it('an inspector (exemptions) is not a platform and is never refused as one', () => {
    const state = emptyDecisionState();
    evolveInPlace(state, from(signed(1), 'p1'));
    const exemption: DecideInput = {
      eventId: id(2),
      type: 'ObligationExempted',
      data: { rule: 'filing', reason: '正当理由' },
    };
    expect(decide(exemption, state, 'inspector').ok).toBe(true);
  });
});
