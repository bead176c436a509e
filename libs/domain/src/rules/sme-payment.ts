import { daysBetween, type BusinessDate } from '../business-date';
import type { PaymentCondition } from '../facts';

/**
 * SME payment (SPEC §7): 保障中小企业款项支付条例 (国务院令第728号, revised by 第802号, in force
 * 2025-06-01). A government unit pays an SME within 30 days of delivery, or of passed
 * acceptance when that is the payment condition (art. 9); a contract may agree a term of at
 * most 60 days (art. 9 ¶1); a late acceptance starts the clock at the end of the agreed
 * acceptance period (art. 10 ¶2); late payment owes interest at the agreed rate, else 0.05% a
 * day (art. 17).
 */
export const SME_PAYMENT = {
  /** art. 9: 自货物、工程、服务交付之日起30日内支付款项 */
  defaultTermDays: 30,
  /** art. 9: 合同另有约定的，从其约定，但付款期限最长不得超过60日 */
  maxTermDays: 60,
  /** art. 17: 未作约定的，按照每日利率万分之五支付逾期利息 — as a fraction */
  defaultDailyRate: { num: 5n, den: 10_000n },
  /** an agreed annual rate is a daily rate of annual / 360 (SPEC §7) */
  daysPerYear: 360n,
} as const;

/** The payment terms of an SME contract, as agreed at signing (SPEC §7). */
export interface SmePaymentTerms {
  condition: PaymentCondition;
  /** the term the contract states, if any (may exceed the lawful 60 days) */
  agreedTermDays: number | null;
  /** the term counted: the agreed one capped at 60, else 30 */
  termDays: number;
  /** agreed annual late-interest rate (decimal string), null: the statutory 0.05% a day */
  annualRate: string | null;
  /** what must be paid: the contract amount */
  owedFen: bigint;
}

/** A daily interest rate as an exact fraction. */
export interface DailyRate {
  num: bigint;
  den: bigint;
}

/** The daily rate of an agreed annual rate (annual / 360), or the statutory 0.05% a day. */
export function dailyRateOf(annualRate: string | null): DailyRate {
  if (annualRate === null) return SME_PAYMENT.defaultDailyRate;
  const m = /^(\d+)(?:\.(\d+))?$/.exec(annualRate);
  if (!m) throw new Error(`not a decimal rate: ${annualRate}`);
  const decimals = m[2] ?? '';
  return {
    num: BigInt(m[1] + decimals),
    den: 10n ** BigInt(decimals.length) * SME_PAYMENT.daysPerYear,
  };
}

/** The term counted for an agreed one (art. 9: at most 60 days; none agreed: 30). */
export function termDaysOf(agreed: number | null): number {
  if (agreed === null) return SME_PAYMENT.defaultTermDays;
  return Math.min(agreed, SME_PAYMENT.maxTermDays);
}

export interface DatedAmount {
  date: BusinessDate;
  amountFen: bigint;
}

/**
 * The payments that count towards the amount owed: in date order, each up to what is still
 * owed (a payment beyond the contract amount pays nothing owed). Payments of the same date
 * keep their order (their date is all that matters here).
 */
export function countedPayments(owedFen: bigint, payments: readonly DatedAmount[]): DatedAmount[] {
  const sorted = [...payments].sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
  const out: DatedAmount[] = [];
  let left = owedFen;
  for (const p of sorted) {
    if (left <= 0n) break;
    if (p.amountFen <= 0n) continue;
    const amountFen = p.amountFen < left ? p.amountFen : left;
    out.push({ date: p.date, amountFen });
    left -= amountFen;
  }
  return out;
}

/** The day the payments reached the amount owed (null: not yet). */
export function paidInFullOn(
  owedFen: bigint,
  payments: readonly DatedAmount[],
): BusinessDate | null {
  if (owedFen <= 0n) return null;
  let sum = 0n;
  for (const p of countedPayments(owedFen, payments)) {
    sum += p.amountFen;
    if (sum >= owedFen) return p.date;
  }
  return null;
}

/** What of the amount owed is paid by day T (payments dated on or before T). */
export function paidByFen(
  owedFen: bigint,
  payments: readonly DatedAmount[],
  asOf: BusinessDate,
): bigint {
  let sum = 0n;
  for (const p of countedPayments(owedFen, payments)) if (p.date <= asOf) sum += p.amountFen;
  return sum;
}

/**
 * The exact late interest as of day T, before rounding: Σ fen × days as a numerator over the
 * daily rate's denominator. Each fen of the amount owed accrues one day's interest for every
 * day after the deadline on which it was still unpaid, up to and including the day it was
 * paid (a fen paid on day P accrues P − deadline days), and up to T for a fen unpaid on T
 * (T − deadline days). A cancelled obligation (contract terminated) accrues nothing after its
 * cancellation day: the amount still owed after a termination is not known to the monitor.
 */
export function lateInterestExact(
  o: { deadline: BusinessDate; cancelledOn: BusinessDate | null },
  owedFen: bigint,
  rate: DailyRate,
  payments: readonly DatedAmount[],
  asOf: BusinessDate,
): { num: bigint; den: bigint } {
  const end = o.cancelledOn !== null && o.cancelledOn < asOf ? o.cancelledOn : asOf;
  const accrued = (until: BusinessDate) => {
    const days = daysBetween(o.deadline, until < end ? until : end);
    return days > 0 ? BigInt(days) : 0n;
  };
  let fenDays = 0n;
  let paid = 0n;
  for (const p of countedPayments(owedFen, payments)) {
    fenDays += p.amountFen * accrued(p.date);
    paid += p.amountFen;
  }
  if (owedFen > paid) fenDays += (owedFen - paid) * accrued(end);
  return { num: fenDays * rate.num, den: rate.den };
}

/** A positive fraction rounded half up to an integer (the one rounding of SPEC §7). */
export function roundHalfUp(num: bigint, den: bigint): bigint {
  return (2n * num + den) / (2n * den);
}

/** Late interest in fen as of day T (SPEC §7): exact, rounded half up once, at the end. */
export function lateInterestFen(
  o: { deadline: BusinessDate; cancelledOn: BusinessDate | null },
  owedFen: bigint,
  annualRate: string | null,
  payments: readonly DatedAmount[],
  asOf: BusinessDate,
): bigint {
  const x = lateInterestExact(o, owedFen, dailyRateOf(annualRate), payments, asOf);
  return roundHalfUp(x.num, x.den);
}

/**
 * The late interest of a contract's SME payment obligation as of day T (SPEC §7), in fen;
 * null when it has none running on T (not an SME, or the clock has not started). Computed
 * whatever the status: an exemption (正当理由, an inspector's judgement of the deadline) does
 * not take away what art. 17 gives the supplier.
 */
export function smeLateInterestAsOf(
  a: {
    obligations: readonly {
      rule: string;
      deadline: BusinessDate;
      startedOn: BusinessDate;
      cancelledOn: BusinessDate | null;
    }[];
    smePayment: SmePaymentTerms | null;
    payments: readonly DatedAmount[];
  },
  asOf: BusinessDate,
): bigint | null {
  const o = a.obligations.find((x) => x.rule === 'smePayment');
  if (!o || !a.smePayment || o.startedOn > asOf) return null;
  return lateInterestFen(o, a.smePayment.owedFen, a.smePayment.annualRate, a.payments, asOf);
}

/**
 * The late interest of a contract's SME payment obligation once it can no longer change, and
 * the day from which it is final (SPEC §7): the later of the clock's start and the first of
 * the day the payments reached the amount owed (its `fulfilledOn`) and its cancellation. Past
 * full payment nothing is unpaid; past a cancellation nothing accrues (a later payment only
 * moves fen from unpaid-up-to-the-cancellation to paid-by-then, the same fen × days). So as of
 * every T on or after `on`, smeLateInterestAsOf gives `fen`. Null while neither has happened
 * (or there is no SME payment obligation).
 */
export function smeLateInterestFinal(a: {
  obligations: readonly {
    rule: string;
    deadline: BusinessDate;
    startedOn: BusinessDate;
    fulfilledOn: BusinessDate | null;
    cancelledOn: BusinessDate | null;
  }[];
  smePayment: SmePaymentTerms | null;
  payments: readonly DatedAmount[];
}): { on: BusinessDate; fen: bigint } | null {
  const o = a.obligations.find((x) => x.rule === 'smePayment');
  if (!o || !a.smePayment) return null;
  let end: BusinessDate | null = o.fulfilledOn;
  if (o.cancelledOn !== null && (end === null || o.cancelledOn < end)) end = o.cancelledOn;
  if (end === null) return null;
  const on = end < o.startedOn ? o.startedOn : end;
  return {
    on,
    fen: lateInterestFen(o, a.smePayment.owedFen, a.smePayment.annualRate, a.payments, on),
  };
}
