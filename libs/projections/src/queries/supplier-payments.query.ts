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

export interface SupplierPaymentsView {
  creditCode: string;
  supplierName: string | null;
  asOf: string;
  invoices: SupplierInvoiceView[];
  prepayments: SupplierPrepaymentView[];
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
