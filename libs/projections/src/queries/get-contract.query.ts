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
