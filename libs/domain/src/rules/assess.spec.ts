import { builtInYears, createCalendar } from '@app/calendar';
import type { WorkCalendar } from '../work-calendar';
import { assessContract } from './assess';
import { BUILT_IN_POLICIES } from './policies';
import { contractStageAsOf } from './status';
import { assess, codes, given, obligation, prepaymentOf, statusOf } from './test-builders';

// The domain only knows the port; the real implementation satisfies it structurally.
const cal: WorkCalendar = createCalendar(builtInYears());
/**
 * The built-in layers with the Fuling one covering every region, unit-less contracts too
 * (listed first, it wins the tie with the national layer; the rest comes from national).
 */
const FULING_EVERYWHERE = [
  { ...BUILT_IN_POLICIES.find((l) => l.id === 'chongqing-2021')!, regions: [''] },
  ...BUILT_IN_POLICIES.filter((l) => l.id === 'national'),
];

describe('SPEC worked examples', () => {
  it('award notice 2021-09-13: +20 days is 2021-10-03 (National Day) → deadline 2021-10-08', () => {
    const a = assess(given().award('2021-09-13').signed('2021-10-08'), cal);
    expect(statusOf(a, 'signing', '2021-10-20', cal)).toMatchObject({
      startedOn: '2021-09-13',
      deadline: '2021-10-08',
      fulfilledOn: '2021-10-08',
      status: 'met',
      delayDays: 0,
      delayWorkingDays: null,
      provisional: false,
      workingDayRule: false,
    });
  });

  it('invoice 2021-09-28 → payment deadline 2021-10-11; unpaid on 2021-10-20 it is 9 days / 7 working days overdue', () => {
    const a = assess(
      given()
        .award('2021-09-01')
        .signed('2021-09-10')
        .invoice('2021-09-28', 'INV-001', '250000.00'),
      cal,
    );
    expect(statusOf(a, 'payment:INV-001', '2021-10-20', cal)).toMatchObject({
      rule: 'payment',
      invoiceNo: 'INV-001',
      startedOn: '2021-09-28',
      deadline: '2021-10-11',
      fulfilledOn: null,
      status: 'overdue',
      delayDays: 9,
      delayWorkingDays: 7,
      provisional: false,
    });
    expect(a.invoices[0]).toMatchObject({
      conditionOn: '2021-09-10',
      startedOn: '2021-09-28',
      dueOn: '2021-10-11',
    });
  });

  /*
   * SPEC §4's example combines the two worked examples: signed on 2021-10-08, yet a payment clock
   * starting on 2021-09-28. Under §3 that only happens for a *final* invoice whose acceptance had
   * already passed, so this history is contrived; with a prepayment/progress invoice the clock
   * would start at signing (next test).
   */
  it('reproduces the values of the SPEC §4 contract response', () => {
    const a = assess(
      given()
        .award('2021-09-13', { size: 'small', amount: '1250000.00' })
        .payment('2021-09-22', '500000.00', { kind: 'prepayment' })
        .performed('2021-09-24')
        .accepted('2021-09-27')
        .invoice('2021-09-28', 'INV-001', '750000.00', 'final')
        .signed('2021-10-08', { amount: '1250000.00', prepaymentRatio: '0.40' }),
      cal,
    );
    expect(a).toMatchObject({
      contractId: 'CQ-FL-2021-000123',
      supplier: { size: 'small', sme: true },
      amountFen: 125000000n,
      prepaymentRatio: '0.40',
    });
    expect(statusOf(a, 'signing', '2021-10-20', cal)).toMatchObject({
      startedOn: '2021-09-13',
      deadline: '2021-10-08',
      fulfilledOn: '2021-10-08',
      status: 'met',
      delayDays: 0,
      delayWorkingDays: null,
      provisional: false,
    });
    expect(statusOf(a, 'payment:INV-001', '2021-10-20', cal)).toMatchObject({
      startedOn: '2021-09-28',
      deadline: '2021-10-11',
      fulfilledOn: null,
      status: 'overdue',
      delayDays: 9,
      delayWorkingDays: 7,
      provisional: false,
    });
    expect(prepaymentOf(a, '2021-10-20')).toMatchObject({
      status: 'below',
      threshold: '0.50',
      ratio: '0.4000',
      prepaidFen: 50000000n,
      contractAmountFen: 125000000n,
    });
    expect(codes(a)).toEqual(['PAYMENT.WITHOUT_INVOICE']);
  });

  it('a progress invoice received before signing starts its clock at signing', () => {
    const a = assess(
      given()
        .award('2021-09-13')
        .invoice('2021-09-28', 'INV-001', '750000.00')
        .signed('2021-10-08'),
      cal,
    );
    // 10-09 is a make-up Saturday: 10-09, 10-11, 10-12, 10-13, 10-14
    expect(statusOf(a, 'payment:INV-001', '2021-10-20', cal)).toMatchObject({
      startedOn: '2021-10-08',
      deadline: '2021-10-14',
      status: 'overdue',
      delayDays: 6,
      delayWorkingDays: 4,
    });
  });
});

describe('business dates are Asia/Shanghai days', () => {
  it('2021-09-30T23:30:00Z is 2021-10-01', () => {
    const a = assess(given().award('2021-09-30T23:30:00Z'), cal);
    // 2021-10-01 + 20 = 2021-10-21, a Thursday
    expect(obligation(a, 'signing')).toMatchObject({
      startedOn: '2021-10-01',
      deadline: '2021-10-21',
    });
  });
  it('2021-09-30T15:59:59Z is still 2021-09-30', () => {
    const a = assess(given().award('2021-09-30T15:59:59Z'), cal);
    expect(obligation(a, 'signing')).toMatchObject({
      startedOn: '2021-09-30',
      deadline: '2021-10-20',
    });
  });
  it('a payment at 00:10 Shanghai on the day after the deadline is late', () => {
    const a = assess(
      given()
        .award('2021-09-01')
        .signed('2021-09-10')
        .invoice('2021-09-28', 'INV-001', '100.00')
        .payment('2021-10-11T16:10:00Z', '100.00', { invoiceNo: 'INV-001' }),
      cal,
    );
    expect(statusOf(a, 'payment:INV-001', '2021-10-20', cal)).toMatchObject({
      fulfilledOn: '2021-10-12',
      status: 'late',
      delayDays: 1,
      delayWorkingDays: 1,
    });
  });
});

describe('deadlines and the holiday calendar', () => {
  it('a calendar-day deadline on a make-up Saturday (调休上班) is not extended', () => {
    // 2021-09-19 + 20 = 2021-10-09, a make-up working Saturday
    expect(obligation(assess(given().award('2021-09-19'), cal), 'signing').deadline).toBe(
      '2021-10-09',
    );
  });
  it('a working-day deadline can land on a make-up Saturday', () => {
    const a = assess(given().award('2021-09-20').signed('2021-10-07'), cal);
    expect(obligation(a, 'announcement')).toMatchObject({
      startedOn: '2021-10-07',
      deadline: '2021-10-09',
    });
  });
  it('a calendar-day deadline on a plain weekend moves to Monday', () => {
    // 2021-11-07 + 20 = 2021-11-27, a Saturday
    expect(obligation(assess(given().award('2021-11-07'), cal), 'signing').deadline).toBe(
      '2021-11-29',
    );
  });
  it('a calendar-day deadline on a weekday holiday moves past the holiday', () => {
    // 2021-01-24 + 20 = 2021-02-13 (Spring Festival, 02-11..17) → 02-18
    expect(obligation(assess(given().award('2021-01-24'), cal), 'signing').deadline).toBe(
      '2021-02-18',
    );
  });
  it('filing counts 7 working days across the Spring Festival (SPEC: 2021-02-05 → 2021-02-20)', () => {
    const a = assess(given().award('2021-01-20').signed('2021-02-05'), cal);
    expect(obligation(a, 'filing')).toMatchObject({ deadline: '2021-02-20', workingDayRule: true });
  });
  it('a deadline in a year without an official notice (2099) is provisional and weekends-only', () => {
    const a = assess(given().award('2099-01-01').signed('2099-01-02'), cal);
    expect(obligation(a, 'signing')).toMatchObject({ deadline: '2099-01-21', provisional: true });
    // 2099-01-02 is a Friday: Mon 01-05, Tue 01-06
    expect(obligation(a, 'announcement')).toMatchObject({
      deadline: '2099-01-06',
      provisional: true,
    });
  });
  it('a deadline crossing from an official year into an unloaded one is provisional', () => {
    const a = assess(given().award('2026-12-01').signed('2026-12-28'), cal);
    expect(obligation(a, 'announcement')).toMatchObject({
      deadline: '2026-12-30',
      provisional: false,
    });
    expect(obligation(a, 'filing')).toMatchObject({ deadline: '2027-01-06', provisional: true });
  });
});

describe('announcement, filing and acceptance', () => {
  it('runs announcement and filing from the signing', () => {
    const a = assess(
      given().award('2021-09-01').signed('2021-09-10').announced('2021-09-14').filed('2021-09-24'),
      cal,
    );
    expect(statusOf(a, 'announcement', '2021-10-20', cal)).toMatchObject({
      deadline: '2021-09-14',
      status: 'met',
      delayWorkingDays: 0,
    });
    // 7 working days after Fri 09-10: 13,14,15,16,17,18(make-up Sat),22 → late on 09-24 by 2 days / 2 working days
    expect(statusOf(a, 'filing', '2021-10-20', cal)).toMatchObject({
      deadline: '2021-09-22',
      status: 'late',
      delayDays: 2,
      delayWorkingDays: 2,
    });
  });
  it('a fulfilling fact that precedes the start (announced before signing) is met and flagged', () => {
    const a = assess(given().award('2021-09-01').announced('2021-09-09').signed('2021-09-10'), cal);
    expect(statusOf(a, 'announcement', '2021-09-10', cal)).toMatchObject({
      fulfilledOn: '2021-09-09',
      status: 'met',
      delayDays: 0,
    });
    expect(codes(a)).toEqual(['CONTRACT.ANNOUNCED_BEFORE_SIGNING']);
  });
  it('a failed acceptance does not fulfil; the later passed one does', () => {
    const a = assess(
      given()
        .award('2021-09-01')
        .signed('2021-09-10')
        .performed('2021-11-01')
        .accepted('2021-11-05', false)
        .accepted('2021-11-15'),
      cal,
    );
    expect(a.acceptedOn).toBe('2021-11-15');
    expect(statusOf(a, 'acceptance', '2021-11-08', cal)).toMatchObject({
      deadline: '2021-11-10',
      status: 'pending',
      daysLeft: 2,
    });
    expect(statusOf(a, 'acceptance', '2021-11-12', cal)).toMatchObject({
      status: 'overdue',
      delayDays: 2,
      delayWorkingDays: 2,
    });
    expect(statusOf(a, 'acceptance', '2021-11-30', cal)).toMatchObject({
      fulfilledOn: '2021-11-15',
      status: 'late',
      delayDays: 5,
      delayWorkingDays: 3,
    });
  });
  it('an obligation is not running before its start', () => {
    const a = assess(given().award('2021-09-01').signed('2021-09-10'), cal);
    expect(statusOf(a, 'announcement', '2021-09-09', cal).status).toBeUndefined();
  });
});

describe('payments', () => {
  const base = () =>
    given()
      .award('2021-09-01', { amount: '300000.00' })
      .signed('2021-09-10', { amount: '300000.00' });

  it('partial payments fulfil the invoice when they reach its amount', () => {
    const a = assess(
      base()
        .invoice('2021-09-28', 'INV-001', '100000.00')
        .payment('2021-10-08', '40000.00', { invoiceNo: 'INV-001' })
        .payment('2021-10-12', '60000.00', { invoiceNo: 'INV-001' }),
      cal,
    );
    expect(statusOf(a, 'payment:INV-001', '2021-10-11', cal)).toMatchObject({
      status: 'pending',
      daysLeft: 0,
    });
    expect(statusOf(a, 'payment:INV-001', '2021-10-12', cal)).toMatchObject({
      fulfilledOn: '2021-10-12',
      status: 'late',
      delayDays: 1,
      delayWorkingDays: 1,
    });
    expect(a.invoices[0]).toMatchObject({ paidFen: 10000000n, paidOn: '2021-10-12' });
    expect(a.invoices[0].allocations.map((x) => x.amountFen)).toEqual([4000000n, 6000000n]);
    expect(codes(a)).toEqual([]);
  });

  it('a payment without invoice number goes to the oldest open invoice and spills to the next', () => {
    const a = assess(
      base()
        .invoice('2021-09-20', 'INV-A', '100.00')
        .invoice('2021-09-22', 'INV-B', '100.00')
        .invoice('2021-10-20', 'INV-C', '100.00')
        .payment('2021-09-23', '30.00', { invoiceNo: 'INV-A' })
        .payment('2021-09-24', '120.00', { paymentId: 'P2' }),
      cal,
    );
    expect(a.payments[1]).toMatchObject({
      paymentId: 'P2',
      allocations: [
        { invoiceNo: 'INV-A', amountFen: 7000n },
        { invoiceNo: 'INV-B', amountFen: 5000n },
      ],
      unallocatedFen: 0n,
    });
    expect(obligation(a, 'payment:INV-A').fulfilledOn).toBe('2021-09-24');
    expect(obligation(a, 'payment:INV-B').fulfilledOn).toBeNull();
    expect(a.invoices.map((i) => i.paidFen)).toEqual([10000n, 5000n, 0n]);
    expect(codes(a)).toEqual([]);
  });

  it('flags payments with no open invoice, an unknown invoice, or more than is owed', () => {
    const a = assess(
      base()
        .payment('2021-09-15', '10.00', { paymentId: 'P-NONE' })
        .invoice('2021-09-20', 'INV-A', '100.00')
        .payment('2021-09-21', '10.00', { invoiceNo: 'INV-X' })
        .payment('2021-09-22', '150.00', { invoiceNo: 'INV-A' }),
      cal,
    );
    expect(codes(a)).toEqual([
      'PAYMENT.WITHOUT_INVOICE',
      'PAYMENT.UNKNOWN_INVOICE',
      'PAYMENT.EXCEEDS_INVOICE',
    ]);
    expect(a.payments.map((p) => p.unallocatedFen)).toEqual([1000n, 1000n, 5000n]);
    expect(obligation(a, 'payment:INV-A').fulfilledOn).toBe('2021-09-22');
  });

  it('a payment naming an invoice received later is allocated to it and flagged', () => {
    const a = assess(
      base()
        .payment('2021-09-20', '100.00', { invoiceNo: 'INV-A' })
        .invoice('2021-09-22', 'INV-A', '100.00'),
      cal,
    );
    expect(codes(a)).toEqual(['PAYMENT.BEFORE_INVOICE']);
    expect(statusOf(a, 'payment:INV-A', '2021-09-30', cal)).toMatchObject({
      startedOn: '2021-09-22',
      fulfilledOn: '2021-09-22',
      status: 'met',
    });
  });

  it('a final invoice received before acceptance starts its clock at the passed acceptance', () => {
    const h = base().performed('2021-11-01').invoice('2021-11-02', 'INV-F', '100.00', 'final');
    const before = assess(h, cal);
    expect(before.obligations.map((o) => o.key)).not.toContain('payment:INV-F');
    expect(before.invoices[0]).toMatchObject({ conditionOn: null, startedOn: null, dueOn: null });

    const after = assess(h.accepted('2021-11-09', false).accepted('2021-11-10'), cal);
    expect(obligation(after, 'payment:INV-F')).toMatchObject({
      startedOn: '2021-11-10',
      deadline: '2021-11-17',
    });
    expect(after.invoices[0]).toMatchObject({ conditionOn: '2021-11-10', dueOn: '2021-11-17' });
  });

  it('flags invoices and payments beyond the contract amount', () => {
    const a = assess(
      given()
        .award('2021-09-01', { amount: '100.00' })
        .signed('2021-09-10', { amount: '100.00' })
        .invoice('2021-09-20', 'INV-A', '60.00')
        .invoice('2021-09-21', 'INV-B', '60.00')
        .payment('2021-09-22', '60.00', { invoiceNo: 'INV-A' })
        .payment('2021-09-23', '60.00', { invoiceNo: 'INV-B' }),
      cal,
    );
    expect(codes(a)).toEqual(['INVOICE.EXCEEDS_CONTRACT', 'PAYMENT.EXCEEDS_CONTRACT']);
    expect(a.dataQuality[0].eventId).toBe(a.invoices[1].eventId);
  });
});

describe('prepayment target', () => {
  const sme = (size: 'small' | 'large' = 'small') =>
    given()
      .award('2021-09-01', { size, amount: '1000.00' })
      .signed('2021-09-10', { amount: '1000.00' });

  it('an SME at exactly 50.00% is met', () => {
    const a = assess(
      sme()
        .payment('2021-09-20', '300.00', { kind: 'prepayment' })
        .payment('2021-09-21', '200.00', { kind: 'prepayment' }),
      cal,
    );
    expect(a.prepayment).toMatchObject({
      thresholdPercent: 50,
      requiredFen: 50000n,
      metOn: '2021-09-21',
    });
    expect(prepaymentOf(a, '2021-09-20')).toMatchObject({
      status: 'pending',
      ratio: '0.3000',
      threshold: '0.50',
    });
    expect(prepaymentOf(a, '2021-09-21')).toMatchObject({
      status: 'met',
      ratio: '0.5000',
      prepaidFen: 50000n,
    });
  });

  it('an SME at 49.99% is pending until performance completes, then below', () => {
    const a = assess(
      sme().payment('2021-09-20', '499.90', { kind: 'prepayment' }).performed('2021-12-01'),
      cal,
    );
    expect(prepaymentOf(a, '2021-11-30')).toMatchObject({ status: 'pending', ratio: '0.4999' });
    expect(prepaymentOf(a, '2021-12-01')).toMatchObject({ status: 'below', ratio: '0.4999' });
  });

  it('a large supplier needs 30%; other kinds of payment do not count', () => {
    const a = assess(
      sme('large')
        .payment('2021-09-20', '299.99', { kind: 'prepayment' })
        .payment('2021-09-20', '500.00', { kind: 'progress' }),
      cal,
    );
    expect(prepaymentOf(a, '2021-09-30')).toMatchObject({
      status: 'pending',
      threshold: '0.30',
      ratio: '0.2999',
    });
    const b = assess(sme('large').payment('2021-09-20', '300.00', { kind: 'prepayment' }), cal);
    expect(prepaymentOf(b, '2021-09-30')).toMatchObject({ status: 'met', ratio: '0.3000' });
  });

  it('a prepayment after performance completed does not turn below into met', () => {
    const a = assess(
      sme().performed('2021-10-01').payment('2021-10-05', '500.00', { kind: 'prepayment' }),
      cal,
    );
    expect(a.prepayment?.metOn).toBeNull();
    expect(prepaymentOf(a, '2021-10-30')).toMatchObject({ status: 'below', ratio: '0.5000' });
  });

  it('termination ends the target; no target before signing', () => {
    const a = assess(sme().terminated('2021-10-01'), cal);
    expect(prepaymentOf(a, '2021-10-01').status).toBe('below');
    expect(prepaymentOf(a, '2021-09-09').status).toBeUndefined();
    expect(assess(given().award('2021-09-01'), cal).prepayment).toBeNull();
  });

  it('without an award the supplier is unknown: 30% and a flag', () => {
    // without an award the contract has no unit, hence no region: the national layer, which
    // sets no prepayment target (SPEC §6); the Fuling layer made to cover every region
    // keeps what this case is about
    const h = given().signed('2021-09-10', { amount: '1000.00' });
    expect(assess(h, cal).prepayment).toBeNull();
    const a = assessContract(h.contractId, h.facts, cal, undefined, FULING_EVERYWHERE);
    expect(a.prepayment?.thresholdPercent).toBe(30);
    expect(codes(a)).toEqual(['CONTRACT.UNKNOWN', 'CONTRACT.SUPPLIER_UNKNOWN']);
  });
});

describe('termination', () => {
  it('cancels what is pending, freezes what is already overdue, and lets later obligations run', () => {
    const a = assess(
      given()
        .award('2021-09-01')
        .signed('2021-09-10')
        .announced('2021-09-13')
        .invoice('2021-09-28', 'INV-1', '100.00')
        .terminated('2021-10-12')
        .invoice('2021-10-15', 'INV-SETTLE', '50.00'),
      cal,
    );
    // filing deadline 09-22 passed before the termination: stays overdue, delay frozen at 10-12
    expect(statusOf(a, 'filing', '2021-12-31', cal)).toMatchObject({
      cancelledOn: '2021-10-12',
      status: 'overdue',
      delayDays: 20,
      delayWorkingDays: cal.workingDaysBetween('2021-09-22', '2021-10-12'),
    });
    // INV-1 due 10-11 < 10-12: also overdue, frozen at 1 day
    expect(statusOf(a, 'payment:INV-1', '2021-12-31', cal)).toMatchObject({
      status: 'overdue',
      delayDays: 1,
      delayWorkingDays: 1,
    });
    // met before the termination: untouched
    expect(statusOf(a, 'announcement', '2021-12-31', cal)).toMatchObject({
      cancelledOn: null,
      status: 'met',
    });
    // settlement invoice after the termination: runs normally
    expect(statusOf(a, 'payment:INV-SETTLE', '2021-10-20', cal)).toMatchObject({
      cancelledOn: null,
      status: 'pending',
      deadline: '2021-10-22',
    });
    expect(a.stage).toBe('terminated');
  });

  it('cancels a pending obligation', () => {
    const a = assess(given().award('2021-09-01').terminated('2021-09-10'), cal);
    expect(statusOf(a, 'signing', '2021-09-09', cal)).toMatchObject({ status: 'pending' });
    expect(statusOf(a, 'signing', '2021-09-10', cal)).toMatchObject({
      status: 'cancelled',
      delayDays: 0,
      delayWorkingDays: null,
    });
  });
});

describe('exemptions', () => {
  it('exempt an obligation by key, the prepayment target by rule; an unknown key is flagged', () => {
    const a = assess(
      given()
        .award('2021-09-01')
        .signed('2021-09-10')
        .invoice('2021-09-28', 'INV-1', '100.00')
        .exempt('2021-10-15', 'payment', 'payment:INV-1')
        .exempt('2021-10-16', 'prepayment')
        .exempt('2021-10-17', 'payment', 'payment:INV-404'),
      cal,
    );
    expect(statusOf(a, 'payment:INV-1', '2021-10-14', cal)).toMatchObject({
      status: 'overdue',
      delayDays: 3,
    });
    expect(statusOf(a, 'payment:INV-1', '2021-10-15', cal)).toMatchObject({
      exemptedOn: '2021-10-15',
      status: 'exempted',
      delayDays: 0,
      delayWorkingDays: 0,
    });
    expect(prepaymentOf(a, '2021-10-16')).toMatchObject({
      exemptedOn: '2021-10-16',
      status: 'exempted',
    });
    expect(codes(a)).toEqual(['EXEMPTION.UNKNOWN_OBLIGATION']);
  });
});

describe('retractions', () => {
  it('a retracted fact is gone whatever its date', () => {
    const h = given()
      .award('2021-09-01')
      .signed('2021-09-05', { id: 'sig-1' })
      .announced('2021-09-06');
    h.retract('2021-09-20', 'sig-1').signed('2021-09-25', { id: 'sig-2' });
    const a = assess(h, cal);
    expect(a.signedOn).toBe('2021-09-25');
    expect(statusOf(a, 'signing', '2021-09-30', cal)).toMatchObject({
      fulfilledOn: '2021-09-25',
      status: 'late',
      delayDays: 3,
    });
    expect(obligation(a, 'announcement')).toMatchObject({
      startedOn: '2021-09-25',
      fulfilledOn: '2021-09-06',
    });
    expect(codes(a)).toEqual(['CONTRACT.ANNOUNCED_BEFORE_SIGNING']);
  });
  it('retracting the award leaves an unknown contract; retracting a payment reopens the invoice', () => {
    const h = given()
      .award('2021-09-01', { id: 'aw' })
      .signed('2021-09-10')
      .invoice('2021-09-20', 'I', '1.00')
      .payment('2021-09-21', '1.00', { invoiceNo: 'I', id: 'pay' });
    // no award: no unit, no region, the national layer (no invoice payment rule, SPEC §6); the
    // Fuling layer made to cover every region keeps the payment obligation this case is about
    const r = h.retract('2021-09-30', 'AW').retract('2021-09-30', 'pay');
    expect(assess(r, cal).obligations.map((o) => o.key)).toEqual(['announcement', 'filing']);
    const a = assessContract(r.contractId, r.facts, cal, undefined, FULING_EVERYWHERE);
    expect(a.obligations.map((o) => o.key)).toEqual(['announcement', 'filing', 'payment:I']);
    expect(obligation(a, 'payment:I').fulfilledOn).toBeNull();
    expect(a.payments).toEqual([]);
    expect(codes(a)).toContain('CONTRACT.UNKNOWN');
  });
  it('a retraction received before its target is flagged until the target arrives, then voids it', () => {
    const early = given().award('2021-09-01').retract('2021-09-30', 'sig-1', 'wrong', 'r-1');
    const a = assess(early, cal);
    expect(a.dataQuality).toEqual([
      expect.objectContaining({ code: 'RETRACTION.TARGET_NOT_RECEIVED', eventId: 'r-1' }),
    ]);
    const b = assess(early.signed('2021-09-05', { id: 'sig-1' }), cal);
    expect(b.signedOn).toBeUndefined();
    expect(codes(b)).toEqual([]);
  });
});

describe('contract summary', () => {
  it('carries the award details, amounts, dates and stage', () => {
    const a = assess(
      given()
        .award('2021-09-01', { size: 'large', amount: '100.00' })
        .signed('2021-09-10', { amount: '90.00', prepaymentRatio: '0.30' })
        .performed('2021-10-20')
        .accepted('2021-10-22'),
      cal,
    );
    expect(a).toMatchObject({
      purchasingUnit: { code: 'FL-CZJ' },
      supplier: { size: 'large', sme: false },
      project: { code: 'P-1' },
      awardAmountFen: 10000n,
      amountFen: 9000n,
      prepaymentRatio: '0.30',
      awardedOn: '2021-09-01',
      signedOn: '2021-09-10',
      performanceCompletedOn: '2021-10-20',
      acceptedOn: '2021-10-22',
      stage: 'accepted',
    });
    expect(codes(a)).toEqual(['CONTRACT.AMOUNT_DIFFERS_FROM_AWARD']);
    expect(contractStageAsOf(a, '2021-09-01')).toBe('awarded');
    expect(contractStageAsOf(a, '2021-10-21')).toBe('performed');
    expect(contractStageAsOf(a, '2021-08-01')).toBe('unknown');
  });
  it('flags lifecycle facts out of order', () => {
    const a = assess(
      given()
        .signed('2021-09-01')
        .award('2021-09-02')
        .filed('2021-08-30')
        .accepted('2021-09-03')
        .performed('2021-09-04'),
      cal,
    );
    expect(codes(a)).toEqual([
      'CONTRACT.SIGNED_BEFORE_AWARD',
      'CONTRACT.FILED_BEFORE_SIGNING',
      'CONTRACT.ACCEPTED_BEFORE_PERFORMANCE',
    ]);
    expect(statusOf(a, 'signing', '2021-09-30', cal)).toMatchObject({
      fulfilledOn: '2021-09-01',
      status: 'met',
    });
  });
  it('an empty history is an unknown contract without flags', () => {
    expect(assessContract('X', [], cal)).toEqual({
      contractId: 'X',
      stage: 'unknown',
      obligations: [],
      prepayment: null,
      invoices: [],
      payments: [],
      smePayment: null,
      dataQuality: [],
    });
  });
});

describe('as of a day (only facts dated on or before it count)', () => {
  const history = () =>
    given()
      .award('2021-09-01', { size: 'small', amount: '1000.00' })
      .signed('2021-09-10', { amount: '1000.00' })
      .payment('2021-09-15', '200.00', { kind: 'prepayment' }) // no invoice: flagged then
      .invoice('2021-11-01', 'INV-1', '2000.00') // beyond the contract amount
      .terminated('2021-12-01');

  it('shows the stage, prepayment and flags of that day, not the final ones', () => {
    const h = history();
    const final = assessContract(h.contractId, h.facts, cal);
    expect(final.stage).toBe('terminated');
    expect(codes(final)).toEqual(['PAYMENT.WITHOUT_INVOICE', 'INVOICE.EXCEEDS_CONTRACT']);
    const sept = assessContract(h.contractId, h.facts, cal, '2021-09-30');
    expect(sept.stage).toBe('signed');
    expect(sept.terminatedOn).toBeUndefined();
    expect(codes(sept)).toEqual(['PAYMENT.WITHOUT_INVOICE']);
    expect(sept.invoices).toEqual([]);
    expect(sept.prepayment).toMatchObject({ endedOn: null, metOn: null });
    const before = assessContract(h.contractId, h.facts, cal, '2021-08-31');
    expect(before).toMatchObject({ stage: 'unknown', obligations: [], prepayment: null });
    expect(before.purchasingUnit).toBeUndefined();
    expect(codes(before)).toEqual([]);
  });

  it('a supplier known only from a later award: the threshold is 30% until then', () => {
    const h = given()
      .signed('2021-09-01', { amount: '1000.00' })
      .payment('2021-09-02', '300.00', { kind: 'prepayment' })
      .award('2021-09-20', { size: 'small', amount: '1000.00' });
    const early = assessContract(h.contractId, h.facts, cal, '2021-09-10');
    expect(codes(early)).toEqual([
      'CONTRACT.UNKNOWN',
      'PAYMENT.WITHOUT_INVOICE',
      'CONTRACT.SUPPLIER_UNKNOWN',
    ]);
    expect(early.prepayment).toMatchObject({ thresholdPercent: 30, metOn: '2021-09-02' });
    const late = assessContract(h.contractId, h.facts, cal, '2021-09-30');
    expect(codes(late)).toEqual(['CONTRACT.SIGNED_BEFORE_AWARD', 'PAYMENT.WITHOUT_INVOICE']);
    expect(late.prepayment).toMatchObject({ thresholdPercent: 50, metOn: null });
  });

  it('a retraction voids its target whatever the dates; its own flag counts from its date', () => {
    const h = given().award('2021-09-01').signed('2021-09-10');
    const signing = h.lastId;
    h.retract('2021-10-01', signing).retract('2021-10-05', 'e9999');
    const sept = assessContract(h.contractId, h.facts, cal, '2021-09-20');
    expect(sept.stage).toBe('awarded');
    expect(codes(sept)).toEqual([]);
    const oct = assessContract(h.contractId, h.facts, cal, '2021-10-06');
    expect(codes(oct)).toEqual(['RETRACTION.TARGET_NOT_RECEIVED']);
  });
});
