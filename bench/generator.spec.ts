import { parseEnvelope } from '@app/contracts';
import { decide, emptyDecisionState, evolve, type DecisionState } from '@app/domain';
import { emptyStats, generateEvents, mulberry32, parseViolations } from './generator';

const NOW = Date.parse('2026-11-26T00:00:00Z');

describe('bench generator', () => {
  it('is deterministic for a seed and different across seeds', () => {
    const a = [...generateEvents({ contracts: 50, seed: 1 })];
    const b = [...generateEvents({ contracts: 50, seed: 1 })];
    const c = [...generateEvents({ contracts: 50, seed: 2 })];
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(JSON.stringify(a)).not.toBe(JSON.stringify(c));
    expect(mulberry32(7)()).toBe(mulberry32(7)());
  });

  it('emits valid, accepted events in business-time order, 8-12 per contract on average', () => {
    const stats = emptyStats();
    const states = new Map<string, DecisionState>();
    const ids = new Set<string>();
    let last = 0;
    for (const e of generateEvents({ contracts: 400 }, stats)) {
      const parsed = parseEnvelope(e, NOW);
      if (!parsed.ok) throw new Error(`${JSON.stringify(parsed)} for ${JSON.stringify(e)}`);
      const ms = Date.parse(e.occurredAt);
      expect(ms).toBeGreaterThanOrEqual(last);
      last = ms;
      expect(ids.has(e.eventId)).toBe(false);
      ids.add(e.eventId);
      const state = states.get(e.contractId) ?? emptyDecisionState();
      expect(decide(parsed.event, state, 'ingestion')).toEqual({ ok: true });
      states.set(e.contractId, evolve(state, parsed.event));
      expect(e.occurredAt >= '2021' && e.occurredAt < '2026').toBe(true);
    }
    expect(stats.contracts).toBe(400);
    expect(stats.events / stats.contracts).toBeGreaterThan(8);
    expect(stats.events / stats.contracts).toBeLessThan(12);
    expect(stats.smeContracts / stats.contracts).toBeGreaterThan(0.55);
    expect(stats.smeContracts / stats.contracts).toBeLessThan(0.85);
  });

  it('honours violation rates and maxEvents', () => {
    const count = (it: Iterable<unknown>) => {
      let n = 0;
      for (const _e of it) n++;
      return n;
    };
    const none = emptyStats();
    const zero =
      'signing=0,announcement=0,filing=0,acceptance=0,payment=0,prepayment=0,smePayment=0';
    count(generateEvents({ contracts: 200, violations: parseViolations(zero) }, none));
    expect(none.late).toEqual({});
    expect(none.overdue).toEqual({});
    const all = emptyStats();
    count(generateEvents({ contracts: 200, violations: { signing: 1 }, overdueShare: 0 }, all));
    expect(all.late.signing).toBe(200);
    expect(count(generateEvents({ contracts: 200, maxEvents: 123 }))).toBe(123);
    expect(() => parseViolations('nope=1')).toThrow(/unknown rule/);
  });
});
