import { addDays, type BusinessDate } from '../business-date';
import type { RuleId } from '../facts';
import type { CalendarResult, WorkCalendar } from '../work-calendar';

/**
 * Counting periods, 民法典 arts. 200–203: the day of the starting event is not counted
 * (art. 201); a period in calendar days ends on start + N, moved to the next working day when
 * that day is a rest day (art. 203); a period in working days ends on the N-th working day after
 * the start. Fulfilment on or before the deadline date is on time.
 */
export type Period = { unit: 'calendarDays' | 'workingDays'; n: number };

/**
 * What a rule is, whatever policy sets its period: when its clock starts, what fulfils it and
 * how its deadline follows from a period. The periods and thresholds themselves are data, in
 * the policy layers (`policies.ts`). Adding a rule: a line here, its settings in the layers,
 * and the step of `assessContract` that finds its start and fulfilment.
 */
export interface RuleDefinition {
  id: RuleId;
  startsAt: string;
  fulfilledBy: string;
  /**
   * `after`: the deadline is the period counted forwards from the start (民法典 arts. 201,
   * 203); `before`: a latest date counted backwards from the start, never shifted (the
   * intention is due N days before the notice); `target`: no deadline (prepayment).
   */
  deadline: 'after' | 'before' | 'target';
  /** the period a contract may state for itself (a setting `{period: {n: 'contract'}}`) */
  contractPeriod?: 'acceptanceWorkingDays';
  /** national law in force in every region: only the national layer may set it */
  nationalOnly?: true;
}

export const RULES: Readonly<Record<RuleId, RuleDefinition>> = {
  signing: {
    id: 'signing',
    startsAt: 'AwardNoticeIssued',
    fulfilledBy: 'ContractSigned',
    deadline: 'after',
  },
  announcement: {
    id: 'announcement',
    startsAt: 'ContractSigned',
    fulfilledBy: 'ContractAnnounced',
    deadline: 'after',
  },
  filing: {
    id: 'filing',
    startsAt: 'ContractSigned',
    fulfilledBy: 'ContractFiled',
    deadline: 'after',
  },
  acceptance: {
    id: 'acceptance',
    startsAt: 'PerformanceCompleted',
    fulfilledBy: 'AcceptanceCompleted{passed:true}',
    deadline: 'after',
    contractPeriod: 'acceptanceWorkingDays',
  },
  payment: {
    id: 'payment',
    startsAt: 'InvoiceReceived, or the payment condition if later',
    fulfilledBy: 'payments allocated to the invoice reach its amount',
    deadline: 'after',
  },
  prepayment: {
    id: 'prepayment',
    startsAt: 'ContractSigned',
    fulfilledBy: 'prepayments reach the threshold of the contract amount',
    deadline: 'target',
  },
  intention: {
    id: 'intention',
    startsAt: 'ProcurementNoticePublished',
    fulfilledBy: 'ProcurementIntentionPublished, at least N days before the notice',
    deadline: 'before',
  },
  smePayment: {
    id: 'smePayment',
    startsAt:
      'AcceptanceCompleted{passed:true}, or the acceptance deadline when acceptance is late; PerformanceCompleted with paymentCondition "delivery"',
    fulfilledBy: 'all payments of the contract reach the contract amount',
    deadline: 'after',
    nationalOnly: true,
  },
};

/** The rules that are deadlines (every rule but the prepayment target), in a stable order. */
export const OBLIGATION_RULE_IDS = (Object.keys(RULES) as RuleId[]).filter(
  (r) => RULES[r].deadline !== 'target',
);

/** The deadline of a period starting on `start` (民法典 arts. 201, 203). */
export function deadlineOf(start: BusinessDate, period: Period, cal: WorkCalendar): CalendarResult {
  return period.unit === 'calendarDays'
    ? cal.nextWorkingDayOnOrAfter(addDays(start, period.n))
    : cal.addWorkingDays(start, period.n);
}

/**
 * The deadline of rule `rule` started on `start`: forwards (`deadlineOf`), or for a rule due
 * before its start, `start − N` days with no rest-day shift (a latest date, not a period).
 */
export function ruleDeadline(
  rule: RuleId,
  start: BusinessDate,
  period: Period,
  cal: WorkCalendar,
): CalendarResult {
  return RULES[rule].deadline === 'before'
    ? { date: addDays(start, -period.n), provisional: false }
    : deadlineOf(start, period, cal);
}
