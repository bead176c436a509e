import { builtInYears, createCalendar } from '@app/calendar';
import fc from 'fast-check';
import { addDays, daysBetween } from '../business-date';
import { fenToYuan } from '../money';
import type { WorkCalendar } from '../work-calendar';
import {
  countedPayments,
  dailyRateOf,
  lateInterestExact,
  lateInterestFen,
  paidInFullOn,
  roundHalfUp,
  smeLateInterestAsOf,
  smeLateInterestFinal,
  type DatedAmount,
} from './sme-payment';
import { assess, codes, given, statusOf, type History } from './test-builders';

const cal: WorkCalendar = createCalendar(builtInYears());
/** An agreed annual late-interest rate of up to 8 decimals, or none (the statutory rate). */
const agreedRate = fc.option(
  fc.integer({ min: 0, max: 100_000_000 }).map((n) => `0.${String(n).padStart(8, '0')}`),
  { nil: null },
);

/** An SME contract of a unit in `region` (Beijing: the national layer only). */
function sme(
  o: {
    region?: string;
    size?: 'large' | 'medium' | 'small' | 'micro';
    amount?: string;
    signedOn?: string;
    terms?: Record<string, unknown>;
  } = {},
): History {
  const amount = o.amount ?? '100000.00';
  return given('C-SME')
    .add('AwardNoticeIssued', '2025-03-03', {
      purchasingUnit: { code: 'U-1', name: '某单位', region: o.region ?? '110105' },
      supplier: { creditCode: '91500102MA5U3XXXXX', name: '某供应商', size: o.size ?? 'small' },
      project: { code: 'P-1' },
      awardAmount: amount,
    })
    .add('ContractSigned', o.signedOn ?? '2025-03-10', { amount, ...o.terms });
}
const interest = (h: History, asOf: string) => {
  const fen = smeLateInterestAsOf(assess(h, cal), asOf);
  return fen === null ? null : fenToYuan(fen);
};
const smeStatus = (h: History, asOf: string) => statusOf(assess(h, cal), 'smePayment', asOf, cal);

describe('SME payment (SPEC §7, 保障中小企业款项支付条例)', () => {
  it('the worked example of SPEC §7: accepted 2025-05-09, paid in full 2025-06-20', () => {
    const h = sme()
      .performed('2025-05-08')
      .accepted('2025-05-09')
      .payment('2025-06-20', '100000.00');
    // 30 days → Sunday 2025-06-08 → Monday 2025-06-09 (民法典 art. 203)
    expect(smeStatus(h, '2025-07-01')).toMatchObject({
      rule: 'smePayment',
      startedOn: '2025-05-09',
      deadline: '2025-06-09',
      fulfilledOn: '2025-06-20',
      status: 'late',
      delayDays: 11,
      delayWorkingDays: null,
      policy: 'national',
    });
    expect(smeStatus(h, '2025-07-01').source).toMatch(/保障中小企业款项支付条例 arts\. 9, 10, 17/);
    expect(interest(h, '2025-07-01')).toBe('550.00');
    // as of the deadline nothing is owed yet; the day after, one day of 0.05%
    expect(interest(h, '2025-06-09')).toBe('0.00');
    expect(interest(h, '2025-06-10')).toBe('50.00');
    expect(smeStatus(h, '2025-06-10')).toMatchObject({ status: 'overdue', delayDays: 1 });
  });

  it('partial payments before and after the deadline: only what is paid late accrues', () => {
    const h = sme()
      .performed('2025-05-08')
      .accepted('2025-05-09')
      .payment('2025-06-05', '40000.00')
      .payment('2025-06-19', '60000.00');
    // 60,000.00 unpaid for 6 days as of 06-15: 6,000,000 fen × 6 × 0.0005
    expect(interest(h, '2025-06-15')).toBe('180.00');
    // paid on 06-19: 10 days
    expect(interest(h, '2025-12-31')).toBe('300.00');
    expect(smeStatus(h, '2025-12-31')).toMatchObject({ status: 'late', delayDays: 10 });
    // a payment beyond the contract amount pays nothing owed and accrues nothing
    const over = sme()
      .performed('2025-05-08')
      .accepted('2025-05-09')
      .payment('2025-06-01', '90000.00')
      .payment('2025-06-19', '30000.00');
    expect(interest(over, '2025-12-31')).toBe('50.00'); // 10,000.00 × 10 days × 0.0005
    expect(smeStatus(over, '2025-12-31').fulfilledOn).toBe('2025-06-19');
  });

  it('an agreed annual rate: daily = annual / 360, one rounding at the end', () => {
    const h = sme({ terms: { lateInterestRate: '0.0365' } })
      .performed('2025-05-08')
      .accepted('2025-05-09')
      .payment('2025-06-20', '100000.00');
    // 10,000,000 fen × 11 × 0.0365 / 360 = 11,152.78 fen → 111.53
    expect(interest(h, '2025-07-01')).toBe('111.53');
    // half up: 1 fen × 1 day × 0.18 / 360 = 0.0005 fen → 0; 1,000 fen → 0.5 → 1
    expect(roundHalfUp(1000n * 5n, 10_000n)).toBe(1n);
    expect(roundHalfUp(999n * 5n, 10_000n)).toBe(0n);
  });

  it('a term agreed: up to 60 days counts; over 60 is flagged and counted as 60', () => {
    const t45 = sme({ terms: { paymentTermDays: 45 } })
      .performed('2025-05-08')
      .accepted('2025-05-09');
    expect(smeStatus(t45, '2025-06-01').deadline).toBe('2025-06-23');
    expect(codes(assess(t45, cal))).not.toContain('PAYMENT_TERM.OVER_LIMIT');
    const t90 = sme({ terms: { paymentTermDays: 90 } })
      .performed('2025-05-08')
      .accepted('2025-05-09');
    // 60 days → 2025-07-08 (Tuesday)
    expect(smeStatus(t90, '2025-06-01').deadline).toBe('2025-07-08');
    expect(codes(assess(t90, cal))).toContain('PAYMENT_TERM.OVER_LIMIT');
    // a large supplier: no SME obligation, and a long term is not this regulation's concern
    const large = sme({ size: 'large', terms: { paymentTermDays: 90 } })
      .performed('2025-05-08')
      .accepted('2025-05-09');
    expect(assess(large, cal).obligations.map((o) => o.rule)).not.toContain('smePayment');
    expect(codes(assess(large, cal))).not.toContain('PAYMENT_TERM.OVER_LIMIT');
    expect(interest(large, '2025-12-31')).toBeNull();
  });

  it('acceptance on time starts the clock at acceptance; late, at the acceptance deadline (art. 10 ¶2)', () => {
    // Chongqing: acceptance within 7 working days of 2025-04-01 → 2025-04-11 (清明 04-04..06)
    const onTime = sme({ region: '500102' }).performed('2025-04-01').accepted('2025-04-08');
    expect(smeStatus(onTime, '2025-04-20')).toMatchObject({
      startedOn: '2025-04-08',
      deadline: '2025-05-08',
      status: 'pending',
    });
    const late = sme({ region: '500102' }).performed('2025-04-01').accepted('2025-04-20');
    // from 2025-04-11: 30 days → Sunday 05-11 → Monday 2025-05-12
    expect(smeStatus(late, '2025-04-20')).toMatchObject({
      startedOn: '2025-04-11',
      deadline: '2025-05-12',
    });
    // never accepted: the clock still runs from the acceptance deadline
    const never = sme({ region: '500102' }).performed('2025-04-01');
    expect(smeStatus(never, '2025-05-20')).toMatchObject({
      startedOn: '2025-04-11',
      status: 'overdue',
      delayDays: 8,
    });
    expect(interest(never, '2025-05-20')).toBe('400.00'); // 100,000.00 × 8 × 0.0005
    // the national layer without an acceptance period in the contract: only acceptance starts it
    const national = sme().performed('2025-04-01');
    expect(assess(national, cal).obligations.map((o) => o.rule)).not.toContain('smePayment');
  });

  it('the delivery condition starts the clock at PerformanceCompleted', () => {
    const h = sme({ terms: { paymentCondition: 'delivery' } })
      .performed('2025-03-03')
      .accepted('2025-03-20');
    expect(smeStatus(h, '2025-03-10')).toMatchObject({
      startedOn: '2025-03-03',
      deadline: '2025-04-02',
    });
  });

  it('a deadline on a holiday moves to the next working day', () => {
    // 2025-09-01 + 30 = 10-01, National Day (10-01..10-08) → 2025-10-09
    const h = sme().performed('2025-08-29').accepted('2025-09-01');
    expect(smeStatus(h, '2025-09-02').deadline).toBe('2025-10-09');
  });

  it('termination cancels a running obligation; after the deadline the interest stops there', () => {
    const before = sme().performed('2025-05-08').accepted('2025-05-09').terminated('2025-05-20');
    expect(smeStatus(before, '2025-12-31').status).toBe('cancelled');
    expect(interest(before, '2025-12-31')).toBe('0.00');
    const after = sme().performed('2025-05-08').accepted('2025-05-09').terminated('2025-06-13');
    expect(smeStatus(after, '2025-12-31')).toMatchObject({ status: 'overdue', delayDays: 4 });
    expect(interest(after, '2025-12-31')).toBe('200.00');
  });

  it('a retracted payment pays nothing; an exemption keeps the interest owed', () => {
    const h = sme()
      .performed('2025-05-08')
      .accepted('2025-05-09')
      .payment('2025-06-01', '100000.00');
    const wrong = h.lastId;
    h.retract('2025-06-03', wrong).payment('2025-06-12', '100000.00');
    expect(smeStatus(h, '2025-12-31')).toMatchObject({ status: 'late', delayDays: 3 });
    expect(interest(h, '2025-12-31')).toBe('150.00');
    const exempted = sme()
      .performed('2025-05-08')
      .accepted('2025-05-09')
      .exempt('2025-06-15', 'smePayment', 'smePayment');
    expect(smeStatus(exempted, '2025-06-20').status).toBe('exempted');
    expect(interest(exempted, '2025-06-20')).toBe('550.00');
  });

  it('interest counted day by day equals the formula (property)', () => {
    const day0 = '2025-01-01';
    const arb = fc.record({
      owed: fc.bigInt({ min: 0n, max: 10_000_000_000n }),
      deadline: fc.integer({ min: 0, max: 60 }),
      asOf: fc.integer({ min: 0, max: 200 }),
      cancel: fc.option(fc.integer({ min: 0, max: 200 }), { nil: undefined }),
      rate: agreedRate,
      pays: fc.array(
        fc.record({
          day: fc.integer({ min: 0, max: 220 }),
          fen: fc.bigInt({ min: 1n, max: 5_000_000_000n }),
        }),
        { maxLength: 8 },
      ),
    });
    fc.assert(
      fc.property(arb, (x) => {
        const deadline = addDays(day0, x.deadline);
        const asOf = addDays(day0, x.asOf);
        const cancelledOn = x.cancel === undefined ? null : addDays(day0, x.cancel);
        const pays: DatedAmount[] = x.pays.map((p) => ({
          date: addDays(day0, p.day),
          amountFen: p.fen,
        }));
        const rate = dailyRateOf(x.rate);
        const got = lateInterestExact({ deadline, cancelledOn }, x.owed, rate, pays, asOf);
        // day by day: each day d after the deadline, up to T and the cancellation, accrues a
        // day's rate on what is still unpaid at the start of d (paid on a day before d)
        const counted = countedPayments(x.owed, pays);
        const end = cancelledOn !== null && cancelledOn < asOf ? cancelledOn : asOf;
        let fenDays = 0n;
        for (let d = addDays(deadline, 1); d <= end; d = addDays(d, 1)) {
          let paidBefore = 0n;
          for (const p of counted) if (p.date < d) paidBefore += p.amountFen;
          fenDays += x.owed - paidBefore;
        }
        expect(got.num * rate.den).toBe(fenDays * rate.num * got.den);
        expect(daysBetween(deadline, end) <= 0 ? got.num : 0n).toBe(0n);
      }),
      { numRuns: 300 },
    );
  });

  it('the final interest is the interest as of every later day, and there is none before full payment or cancellation (property)', () => {
    const day0 = '2025-01-01';
    const arb = fc.record({
      owed: fc.bigInt({ min: 0n, max: 10_000_000_000n }),
      deadline: fc.integer({ min: 0, max: 60 }),
      cancel: fc.option(fc.integer({ min: 0, max: 200 }), { nil: undefined }),
      rate: agreedRate,
      pays: fc.array(
        fc.record({
          day: fc.integer({ min: -20, max: 220 }),
          fen: fc.bigInt({ min: 1n, max: 5_000_000_000n }),
        }),
        { maxLength: 8 },
      ),
      later: fc.array(fc.integer({ min: 0, max: 500 }), { minLength: 1, maxLength: 4 }),
    });
    fc.assert(
      fc.property(arb, (x) => {
        const payments: DatedAmount[] = x.pays.map((p) => ({
          date: addDays(day0, p.day),
          amountFen: p.fen,
        }));
        // as the assessment builds the obligation: fulfilled the day the payments reach the amount
        const o = {
          rule: 'smePayment',
          startedOn: day0,
          deadline: addDays(day0, x.deadline),
          fulfilledOn: x.owed <= 0n ? day0 : paidInFullOn(x.owed, payments),
          cancelledOn: x.cancel === undefined ? null : addDays(day0, x.cancel),
        };
        const smePayment = {
          condition: 'acceptance' as const,
          agreedTermDays: null,
          termDays: 30,
          annualRate: x.rate,
          owedFen: x.owed,
        };
        const final = smeLateInterestFinal({ obligations: [o], smePayment, payments });
        if (o.fulfilledOn === null && o.cancelledOn === null) {
          expect(final).toBeNull();
          return;
        }
        expect(final).not.toBeNull();
        expect(final!.on >= day0).toBe(true);
        for (const n of x.later)
          expect(lateInterestFen(o, x.owed, x.rate, payments, addDays(final!.on, n))).toBe(
            final!.fen,
          );
      }),
      { numRuns: 300 },
    );
  });
});
