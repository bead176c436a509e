import { Query } from '@nestjs/cqrs';
import type { AccessScope } from './scope';

export interface ObligationView {
  rule: string;
  key: string;
  startedOn: string;
  deadline: string;
  fulfilledOn: string | null;
  status: string;
  delayDays: number;
  delayWorkingDays: number | null;
  daysLeft: number | null;
  exemptedOn: string | null;
  cancelledOn: string | null;
  provisional: boolean;
  /** the policy layer the deadline follows (SPEC §6) */
  policy: string | null;
  /** the article of that layer's setting */
  source: string | null;
  /** `smePayment` only (SPEC §7): late interest owed as of `asOf`, yuan */
  lateInterest?: string;
}

/** The SME payment terms and what is owed as of `asOf` (SPEC §7); null unless the supplier is an SME. */
export interface SmePaymentView {
  /** what starts the clock: acceptance (default) or delivery */
  paymentCondition: string;
  /** the term the contract states, if any (over 60 is flagged and counted as 60) */
  agreedTermDays: number | null;
  /** the term counted, calendar days */
  termDays: number;
  /** the agreed annual rate, or null: the statutory 0.05% a day */
  lateInterestRate: string | null;
  /** the contract amount */
  owed: string;
  /** payments made by `asOf` towards it */
  paid: string;
  outstanding: string;
  /** late interest as of `asOf` (0.00 before the clock runs late) */
  lateInterest: string;
}

export interface PrepaymentView {
  status: string;
  threshold: string;
  ratio: string;
  prepaid: string;
  required: string;
  contractAmount: string;
  agreedRatio: string | null;
  policy: string;
  source: string;
}

export interface ContractView {
  contractId: string;
  asOf: string;
  stage: string;
  purchasingUnit: { code: string; name: string; region: string | null } | null;
  supplier: { creditCode: string; name: string; size: string; sme: boolean } | null;
  project: { code: string; name: string | null } | null;
  amount: string | null;
  obligations: ObligationView[];
  prepayment: PrepaymentView | null;
  smePayment: SmePaymentView | null;
  /** late interest owed as of `asOf`, summed over the contract's obligations (SPEC §7) */
  lateInterest: string;
  dataQuality: Array<{ code: string; message: string; eventId?: string }>;
}

/** SPEC §4 `GET /v1/contracts/{contractId}?asOf=`. */
export class GetContractQuery extends Query<ContractView> {
  constructor(
    readonly contractId: string,
    readonly asOf: string,
    readonly scope?: AccessScope,
  ) {
    super();
  }
}
