import { Query } from '@nestjs/cqrs';
import type { AccessScope } from './scope';

export interface SmeOverdueItem {
  unitCode: string;
  unitName: string | null;
  region: string | null;
  /** contracts whose SME payment is overdue on 31 December */
  contracts: number;
  /** what of their amounts is unpaid on 31 December, yuan */
  unpaid: string;
}

/** SPEC §7 `GET /v1/reports/sme-overdue`: the annual disclosure of 保障中小企业款项支付条例 art. 18. */
export interface SmeOverdueReport {
  year: number;
  asOf: string;
  items: SmeOverdueItem[];
  total: { units: number; contracts: number; unpaid: string };
}

export class SmeOverdueReportQuery extends Query<SmeOverdueReport> {
  constructor(
    readonly year: number,
    readonly region?: string,
    readonly unit?: string,
    readonly scope?: AccessScope,
  ) {
    super();
  }
}

/**
 * SPEC §7 `GET /v1/units/{code}/payment-performance`: the invoices paid in full in the period,
 * with the figures of the UK's payment compliance notices and Italy's timeliness index.
 */
export interface PaymentPerformanceView {
  unitCode: string;
  unitName: string | null;
  from: string;
  to: string;
  /** invoices whose payments reached their amount within [from, to] */
  invoicesPaid: number;
  amountPaid: string;
  /** mean days from receipt of the invoice to its full payment, 2 decimals half up */
  meanDaysToPay: number | null;
  /** shares of those invoices paid within 30, 31–60, 61+ days of receipt (4 decimals, down) */
  paidWithin30Days: number | null;
  paidIn31To60Days: number | null;
  paidAfter60Days: number | null;
  /** invoices of those with a deadline (the invoice's payment rule, else the SME payment) */
  withDeadline: number;
  /** share of those paid after their deadline */
  paidLateShare: number | null;
  /** Σ amount × max(0, paid − deadline) / Σ amount, days, 2 decimals half up */
  weightedMeanDelayDays: number | null;
  /** Italy's indicatore di tempestività: Σ amount × (paid − deadline) / Σ amount (early < 0) */
  timelinessIndexDays: number | null;
}

export class PaymentPerformanceQuery extends Query<PaymentPerformanceView> {
  constructor(
    readonly unitCode: string,
    readonly from: string,
    readonly to: string,
    readonly scope?: AccessScope,
  ) {
    super();
  }
}
