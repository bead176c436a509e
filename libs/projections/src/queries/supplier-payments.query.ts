import { Query } from '@nestjs/cqrs';
import type { AccessScope } from './scope';

export interface SupplierInvoiceView {
  contractId: string;
  unitCode: string | null;
  unitName: string | null;
  invoiceNo: string;
  stage: string;
  amount: string;
  receivedOn: string;
  /** payment clock start: max(receipt, condition met); null while the condition is unmet */
  startedOn: string | null;
  dueOn: string | null;
  paid: string;
  outstanding: string;
  paidOn: string | null;
  status: string;
  delayDays: number;
  delayWorkingDays: number | null;
  provisional: boolean;
  /** the layer and article of the payment rule; null when none is in force for the invoice */
  policy: string | null;
  source: string | null;
}

export interface SupplierPrepaymentView {
  contractId: string;
  contractAmount: string;
  threshold: string;
  entitled: string;
  received: string;
  ratio: string;
  status: string;
  policy: string;
  source: string;
}

/** A contract's SME payment (SPEC §7) as the supplier sees it on `asOf`. */
export interface SupplierSmePaymentView {
  contractId: string;
  unitCode: string | null;
  unitName: string | null;
  /** the clock start; null while it has not started (awaiting acceptance or delivery) */
  startedOn: string | null;
  dueOn: string | null;
  /** pending, met, late, overdue, exempted, cancelled; `awaiting-condition` before the clock */
  status: string;
  delayDays: number;
  owed: string;
  paid: string;
  outstanding: string;
  lateInterest: string;
  provisional: boolean;
  policy: string | null;
  source: string | null;
}

export interface SupplierPaymentsView {
  creditCode: string;
  supplierName: string | null;
  asOf: string;
  invoices: SupplierInvoiceView[];
  prepayments: SupplierPrepaymentView[];
  /** one per SME contract (SPEC §7) */
  smePayments: SupplierSmePaymentView[];
  /** late interest owed to the supplier as of `asOf`, over all its contracts */
  lateInterest: string;
}

/** SPEC §4 `GET /v1/suppliers/{creditCode}/payments`. */
export class GetSupplierPaymentsQuery extends Query<SupplierPaymentsView> {
  constructor(
    readonly creditCode: string,
    readonly asOf: string,
    readonly scope?: AccessScope,
  ) {
    super();
  }
}
