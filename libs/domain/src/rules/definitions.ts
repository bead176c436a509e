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

export interface RuleDefinition<
  R extends RuleId = RuleId,
  P extends Period | null = Period | null,
> {
  id: R;
  startsAt: string;
  fulfilledBy: string;
  /** null for the prepayment target, which has no deadline */
  period: P;
  source: string;
}

/**
 * 签订合同 — seed item 13: the purchasing unit signs within 20 days of the award notice
 * (中标（成交）通知书发出之日起20日内), stricter than 政府采购法 art. 46 (30 days).
 */
export const SIGNING_RULE: RuleDefinition<'signing', Period> = {
  id: 'signing',
  startsAt: 'AwardNoticeIssued',
  fulfilledBy: 'ContractSigned',
  period: { unit: 'calendarDays', n: 20 },
  source: 'seed item 13; 政府采购法 art. 46',
};

/** 合同公告 — 政府采购法实施条例 art. 50: announce within 2 working days of signing. */
export const ANNOUNCEMENT_RULE: RuleDefinition<'announcement', Period> = {
  id: 'announcement',
  startsAt: 'ContractSigned',
  fulfilledBy: 'ContractAnnounced',
  period: { unit: 'workingDays', n: 2 },
  source: '政府采购法实施条例 art. 50',
};

/** 合同备案 — 政府采购法 art. 47; seed item 14: file within 7 working days of signing. */
export const FILING_RULE: RuleDefinition<'filing', Period> = {
  id: 'filing',
  startsAt: 'ContractSigned',
  fulfilledBy: 'ContractFiled',
  period: { unit: 'workingDays', n: 7 },
  source: '政府采购法 art. 47; seed item 14',
};

/**
 * 履约验收 — seed item 14: once performance is complete (合同执行完毕), organise acceptance
 * within 7 working days. Only a passed acceptance fulfils it.
 */
export const ACCEPTANCE_RULE: RuleDefinition<'acceptance', Period> = {
  id: 'acceptance',
  startsAt: 'PerformanceCompleted',
  fulfilledBy: 'AcceptanceCompleted{passed:true}',
  period: { unit: 'workingDays', n: 7 },
  source: 'seed item 14',
};

/**
 * 支付 — seed item 15: when the agreed payment conditions are met, pay within 5 working days of
 * receiving the invoice (收到发票后5个工作日内). One obligation per invoice; the clock starts at
 * the later of the invoice and the condition (signing for prepayment/progress invoices, the
 * first passed acceptance for a final invoice).
 */
export const PAYMENT_RULE: RuleDefinition<'payment', Period> = {
  id: 'payment',
  startsAt: 'InvoiceReceived, or the payment condition if later',
  fulfilledBy: 'payments allocated to the invoice reach its amount',
  period: { unit: 'workingDays', n: 5 },
  source: 'seed item 15',
};

/**
 * 预付款 — seed item 15: prepayments of at least 30% of the contract amount, 50% for small and
 * medium enterprises (中小企业). A target, not a deadline: met when reached, below once
 * performance completes or the contract ends without it.
 */
export const PREPAYMENT_RULE: RuleDefinition<'prepayment', null> = {
  id: 'prepayment',
  startsAt: 'ContractSigned',
  fulfilledBy: 'prepayments reach the threshold of the contract amount',
  period: null,
  source: 'seed item 15',
};

export const RULES: Readonly<Record<RuleId, RuleDefinition>> = {
  signing: SIGNING_RULE,
  announcement: ANNOUNCEMENT_RULE,
  filing: FILING_RULE,
  acceptance: ACCEPTANCE_RULE,
  payment: PAYMENT_RULE,
  prepayment: PREPAYMENT_RULE,
};

/** The deadline of a period starting on `start` (民法典 arts. 201, 203). */
export function deadlineOf(start: BusinessDate, period: Period, cal: WorkCalendar): CalendarResult {
  return period.unit === 'calendarDays'
    ? cal.nextWorkingDayOnOrAfter(addDays(start, period.n))
    : cal.addWorkingDays(start, period.n);
}
