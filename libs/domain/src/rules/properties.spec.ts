import { builtInYears, createCalendar } from '@app/calendar';
import fc from 'fast-check';
import { addDays } from '../business-date';
import type { RuleId } from '../facts';
import type { WorkCalendar } from '../work-calendar';
import { assessContract } from './assess';
import {
  contractStageAsOf,
  finalObligationStatus,
  obligationSettledOn,
  obligationStatusAsOf,
  prepaymentStatusAsOf,
} from './status';
import { given, type History } from './test-builders';

const cal: WorkCalendar = createCalendar(builtInYears());

const EXEMPT_TARGETS: [RuleId, string][] = [
  ['signing', 'signing'],
  ['announcement', 'announcement'],
  ['filing', 'filing'],
  ['acceptance', 'acceptance'],
  ['payment', 'payment:I0'],
  ['payment', 'payment:I1'],
  ['payment', 'payment:I9'],
  ['prepayment', 'prepayment'],
];

const when = fc
  .record({
    base: fc.constantFrom('2021-01-01', '2021-09-01', '2026-11-01'),
    day: fc.integer({ min: 0, max: 150 }),
    hour: fc.integer({ min: 0, max: 23 }),
  })
  .map(
    ({ base, day, hour }) => `${addDays(base, day)}T${String(hour).padStart(2, '0')}:30:00+08:00`,
  );
const amount = fc.integer({ min: 1, max: 2000 }).map((n) => `${Math.floor(n / 10)}.${n % 10}0`);
const stage = fc.constantFrom('prepayment' as const, 'progress' as const, 'final' as const);

const op = fc.oneof(
  fc.record({
    t: fc.constant('award' as const),
    w: when,
    size: fc.constantFrom('large' as const, 'small' as const),
    amount,
  }),
  fc.record({ t: fc.constant('signed' as const), w: when, amount }),
  fc.record({
    t: fc.constantFrom(
      'announced' as const,
      'filed' as const,
      'performed' as const,
      'terminated' as const,
    ),
    w: when,
  }),
  fc.record({ t: fc.constant('accepted' as const), w: when, passed: fc.boolean() }),
  fc.record({
    t: fc.constant('invoice' as const),
    w: when,
    no: fc.integer({ min: 0, max: 2 }),
    amount,
    stage,
  }),
  fc.record({
    t: fc.constant('invoice' as const),
    w: when,
    no: fc.integer({ min: 0, max: 2 }),
    amount,
    stage,
  }),
  fc.record({
    t: fc.constant('payment' as const),
    w: when,
    no: fc.integer({ min: -2, max: 3 }),
    amount,
    kind: stage,
  }),
  fc.record({
    t: fc.constant('payment' as const),
    w: when,
    no: fc.integer({ min: -2, max: 3 }),
    amount,
    kind: stage,
  }),
  fc.record({
    t: fc.constant('exempt' as const),
    w: when,
    target: fc.nat(EXEMPT_TARGETS.length - 1),
  }),
  fc.record({ t: fc.constant('retract' as const), w: when, target: fc.nat() }),
);
type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;

function build(ops: Op[]): History {
  const h = given('CQ-PROP');
  const retractable: string[] = [];
  ops.forEach((o, i) => {
    switch (o.t) {
      case 'award':
        h.award(o.w, { size: o.size, amount: o.amount });
        break;
      case 'signed':
        h.signed(o.w, { amount: o.amount });
        break;
      case 'announced':
        h.announced(o.w);
        break;
      case 'filed':
        h.filed(o.w);
        break;
      case 'performed':
        h.performed(o.w);
        break;
      case 'terminated':
        h.terminated(o.w);
        break;
      case 'accepted':
        h.accepted(o.w, o.passed);
        break;
      case 'invoice':
        h.invoice(o.w, `I${o.no}`, o.amount, o.stage);
        break;
      case 'payment':
        h.payment(o.w, o.amount, {
          kind: o.kind,
          paymentId: `P${i}`,
          invoiceNo: o.no < 0 ? undefined : `I${o.no}`,
        });
        break;
      case 'exempt': {
        const [rule, key] = EXEMPT_TARGETS[o.target];
        h.exempt(o.w, rule, key);
        break;
      }
      case 'retract':
        if (retractable.length === 0) return;
        h.retract(o.w, retractable[o.target % retractable.length]);
        return;
    }
    retractable.push(h.lastId);
  });
  return h;
}

const history = fc.array(op, { minLength: 0, maxLength: 25 }).map(build);

describe('assessContract properties', () => {
  it('does not depend on the order the facts are given in', () => {
    fc.assert(
      fc.property(
        history.chain((h) => {
          const facts = h.facts;
          return fc.tuple(
            fc.constant(facts),
            fc.shuffledSubarray(facts, { minLength: facts.length, maxLength: facts.length }),
          );
        }),
        ([facts, shuffled]) => {
          expect(assessContract('CQ-PROP', shuffled, cal)).toEqual(
            assessContract('CQ-PROP', facts, cal),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('from its settled day on, an obligation has its final status, and not before the last change', () => {
    fc.assert(
      fc.property(history, (h) => {
        const a = assessContract('CQ-PROP', h.facts, cal);
        for (const o of a.obligations) {
          const settled = obligationSettledOn(o);
          const final = finalObligationStatus(o);
          for (const d of [settled, addDays(settled, 1), addDays(settled, 400)])
            expect(obligationStatusAsOf(o, d, cal)?.status).toBe(final);
          // every day before the start is "not running", so the summary must not count it
          expect(obligationStatusAsOf(o, addDays(o.startedOn, -1), cal)).toBeNull();
          expect(settled > o.deadline && settled >= o.startedOn).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a met or late obligation never becomes pending or overdue later; below/met prepayment never pending again', () => {
    fc.assert(
      fc.property(history, (h) => {
        const facts = h.facts;
        const a = assessContract('CQ-PROP', facts, cal);
        if (facts.length === 0) return;
        // Statuses only change on these days, so checking them (and the day after) covers all days.
        const days = new Set<string>();
        for (const f of facts) days.add(f.date);
        for (const o of a.obligations) {
          for (const d of [o.startedOn, o.deadline, o.fulfilledOn, o.exemptedOn, o.cancelledOn])
            if (d) days.add(d);
        }
        for (const d of [...days]) days.add(addDays(d, 1));
        const asOfs = [...days].sort();
        for (const o of a.obligations) {
          expect(o.deadline > o.startedOn).toBe(true);
          const seen = asOfs.map((d) => obligationStatusAsOf(o, d, cal)?.status ?? 'not running');
          const settledAt = seen.findIndex((s) => s === 'met' || s === 'late');
          if (settledAt >= 0)
            expect(seen.slice(settledAt).filter((s) => s === 'pending' || s === 'overdue')).toEqual(
              [],
            );
          const running = seen.findIndex((s) => s !== 'not running');
          expect(running >= 0 && seen.slice(running).includes('not running')).toBe(false);
        }
        if (a.prepayment) {
          const p = a.prepayment;
          const seen = asOfs.map((d) => prepaymentStatusAsOf(p, d)?.status ?? 'not running');
          const endedAt = seen.findIndex((s) => s === 'met' || s === 'below' || s === 'exempted');
          if (endedAt >= 0) expect(seen.slice(endedAt).filter((s) => s === 'pending')).toEqual([]);
        }
        for (const inv of a.invoices) {
          expect(inv.paidFen).toBe(inv.allocations.reduce((s, x) => s + x.amountFen, 0n));
          expect(inv.paidFen <= inv.amountFen).toBe(true);
        }
        for (const p of a.payments) {
          expect(p.unallocatedFen + p.allocations.reduce((s, x) => s + x.amountFen, 0n)).toBe(
            p.amountFen,
          );
        }
      }),
      { numRuns: 300 },
    );
  });

  it('as of a day, the history up to it agrees with the whole history wherever that cannot depend on later facts', () => {
    fc.assert(
      fc.property(history, (h) => {
        const facts = h.facts;
        const full = assessContract('CQ-PROP', facts, cal);
        const days = new Set<string>();
        for (const f of facts) for (const k of [-1, 0, 1]) days.add(addDays(f.date, k));
        for (const T of [...days].sort()) {
          const then = assessContract('CQ-PROP', facts, cal, T);
          expect(then.stage).toBe(contractStageAsOf(full, T));
          // obligations: the read models hold the whole history's, filtered by date in SQL
          const statuses = (a: typeof full) =>
            Object.fromEntries(
              a.obligations
                .map((o) => [o.key, obligationStatusAsOf(o, T, cal)] as const)
                .filter(([, st]) => st !== null),
            );
          expect(statuses(then)).toEqual(statuses(full));
          // the prepayment target, unless the supplier (its threshold) is only known later
          if (full.awardedOn === undefined || full.awardedOn <= T) {
            const p = (a: typeof full) =>
              a.prepayment ? prepaymentStatusAsOf(a.prepayment, T) : null;
            expect(p(then)).toEqual(p(full));
          }
          // and nothing dated after T shows
          for (const d of [then.awardedOn, then.signedOn, then.terminatedOn, then.acceptedOn])
            if (d !== undefined) expect(d <= T).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});
