/**
 * Status as of a day T — the single definition; the SQL read models implement exactly this.
 * All comparisons are on business dates `YYYY-MM-DD` (Asia/Shanghai); "x <= T" means the fact
 * happened on or before day T. Only facts on or before T count (SPEC §3).
 *
 * Obligation (rule, startedOn, deadline, fulfilledOn, exemptedOn, cancelledOn, workingDayRule):
 *   0. startedOn > T                          → not running: no status (null).
 *   1. exemptedOn <= T                        → exempted.
 *   2. fulfilledOn <= T                       → met if fulfilledOn <= deadline, else late with
 *                                               delay = fulfilledOn - deadline.
 *   3. cancelledOn <= T (contract terminated) → cancelled if cancelledOn <= deadline; otherwise
 *                                               the violation was already committed and stays
 *                                               overdue, its delay frozen: cancelledOn - deadline.
 *   4. T > deadline                           → overdue with delay = T - deadline.
 *   5. otherwise                              → pending with daysLeft = deadline - T.
 *   delayDays: calendar days (end - deadline) for late/overdue, else 0.
 *   delayWorkingDays: null for calendar-day rules (signing); for working-day rules the working
 *   days d with deadline < d <= end (calendar table: idx(end) - idx(deadline)) for late/overdue,
 *   else 0.
 *   daysLeft: deadline - T for pending, else null.
 *
 * Prepayment target (startedOn = signing, metOn, endedOn, exemptedOn):
 *   0. startedOn > T → null;  1. exemptedOn <= T → exempted;  2. metOn <= T → met;
 *   3. endedOn <= T → below;  4. otherwise pending.
 *   prepaid = sum of prepayment-kind payments dated <= T; ratio = prepaid / contract amount,
 *   4 decimals rounded down. metOn counts only prepayments made by endedOn, so `below` is final.
 *
 * On-time rate = met / (met + late + overdue).
 */
import { addDays, daysBetween, maxDate, type BusinessDate } from '../business-date';
import { ratioDown } from '../money';
import type { WorkCalendar } from '../work-calendar';
import type { ContractAssessment, ContractStage, Obligation, PrepaymentTrack } from './types';

export type ObligationStatus = 'pending' | 'met' | 'late' | 'overdue' | 'exempted' | 'cancelled';

export interface ObligationStatusAsOf {
  status: ObligationStatus;
  delayDays: number;
  delayWorkingDays: number | null;
  daysLeft: number | null;
}

export function obligationStatusAsOf(
  o: Obligation,
  asOf: BusinessDate,
  cal: WorkCalendar,
): ObligationStatusAsOf | null {
  if (o.startedOn > asOf) return null;
  const onTime = o.workingDayRule ? 0 : null;
  const delayed = (status: 'late' | 'overdue', end: BusinessDate): ObligationStatusAsOf => ({
    status,
    delayDays: daysBetween(o.deadline, end),
    delayWorkingDays: o.workingDayRule ? cal.workingDaysBetween(o.deadline, end) : null,
    daysLeft: null,
  });
  if (o.exemptedOn !== null && o.exemptedOn <= asOf) {
    return { status: 'exempted', delayDays: 0, delayWorkingDays: onTime, daysLeft: null };
  }
  if (o.fulfilledOn !== null && o.fulfilledOn <= asOf) {
    return o.fulfilledOn <= o.deadline
      ? { status: 'met', delayDays: 0, delayWorkingDays: onTime, daysLeft: null }
      : delayed('late', o.fulfilledOn);
  }
  if (o.cancelledOn !== null && o.cancelledOn <= asOf) {
    return o.cancelledOn <= o.deadline
      ? { status: 'cancelled', delayDays: 0, delayWorkingDays: onTime, daysLeft: null }
      : delayed('overdue', o.cancelledOn);
  }
  if (asOf > o.deadline) return delayed('overdue', asOf);
  return {
    status: 'pending',
    delayDays: 0,
    delayWorkingDays: onTime,
    daysLeft: daysBetween(asOf, o.deadline),
  };
}

/**
 * The status an obligation keeps for every T on or after {@link obligationSettledOn}: the
 * decision above with T past every date (exempted, else met/late, else cancelled/overdue,
 * else overdue — an unfulfilled obligation past its deadline stays overdue).
 */
export function finalObligationStatus(
  o: Pick<Obligation, 'deadline' | 'fulfilledOn' | 'exemptedOn' | 'cancelledOn'>,
): ObligationStatus {
  if (o.exemptedOn !== null) return 'exempted';
  if (o.fulfilledOn !== null) return o.fulfilledOn <= o.deadline ? 'met' : 'late';
  if (o.cancelledOn !== null) return o.cancelledOn <= o.deadline ? 'cancelled' : 'overdue';
  return 'overdue';
}

/**
 * A day from which the status no longer changes with T: the latest of the start, the day
 * after the deadline and every fulfilment, exemption or cancellation date (the decision
 * above compares T only with those). Per-unit summaries count obligations settled by T from
 * their final status and compute only the others row by row.
 */
export function obligationSettledOn(
  o: Pick<Obligation, 'startedOn' | 'deadline' | 'fulfilledOn' | 'exemptedOn' | 'cancelledOn'>,
): BusinessDate {
  let d = maxDate(o.startedOn, addDays(o.deadline, 1));
  for (const x of [o.fulfilledOn, o.exemptedOn, o.cancelledOn]) if (x !== null) d = maxDate(d, x);
  return d;
}

export type PrepaymentStatus = 'pending' | 'met' | 'below' | 'exempted';

export interface PrepaymentStatusAsOf {
  status: PrepaymentStatus;
  /** prepayment-kind payments dated on or before T */
  prepaidFen: bigint;
  /** prepaid / contract amount, 4 decimals rounded down */
  ratio: string;
  /** the threshold as a ratio with 2 decimals ("0.30") */
  threshold: string;
}

export function prepaymentStatusAsOf(
  t: PrepaymentTrack,
  asOf: BusinessDate,
): PrepaymentStatusAsOf | null {
  if (t.startedOn > asOf) return null;
  let prepaidFen = 0n;
  for (const p of t.prepayments) if (p.date <= asOf) prepaidFen += p.amountFen;
  const status: PrepaymentStatus =
    t.exemptedOn !== null && t.exemptedOn <= asOf
      ? 'exempted'
      : t.metOn !== null && t.metOn <= asOf
        ? 'met'
        : t.endedOn !== null && t.endedOn <= asOf
          ? 'below'
          : 'pending';
  return {
    status,
    prepaidFen,
    ratio: ratioDown(prepaidFen, t.contractAmountFen),
    threshold: thresholdRatio(t.thresholdPercent),
  };
}

/** The contract's stage on day T (the furthest lifecycle fact dated on or before T). */
export function contractStageAsOf(a: ContractAssessment, asOf: BusinessDate): ContractStage {
  const by = (d: BusinessDate | undefined) => d !== undefined && d <= asOf;
  if (by(a.terminatedOn)) return 'terminated';
  if (by(a.acceptedOn)) return 'accepted';
  if (by(a.performanceCompletedOn)) return 'performed';
  if (by(a.signedOn)) return 'signed';
  if (by(a.awardedOn)) return 'awarded';
  return 'unknown';
}

/** A whole percentage as a ratio string with 2 decimals: 30 → "0.30", 100 → "1.00". */
export function thresholdRatio(percent: number): string {
  return `${Math.floor(percent / 100)}.${String(percent % 100).padStart(2, '0')}`;
}
