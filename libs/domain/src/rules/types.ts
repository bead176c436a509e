import type { BusinessDate } from '../business-date';
import type { InvoiceStage, Project, PurchasingUnit, RuleId, Supplier } from '../facts';
import type { DataQualityCode } from './data-quality';
import type { SmePaymentTerms } from './sme-payment';

/** The rules that are deadlines (prepayment is a target, see `PrepaymentTrack`). */
export type ObligationRule = Exclude<RuleId, 'prepayment'>;

export type ContractStage =
  'unknown' | 'awarded' | 'signed' | 'performed' | 'accepted' | 'terminated';

/**
 * One deadline the purchasing unit must meet. Dates only: its status as of a day is derived by
 * `obligationStatusAsOf` (and by the same logic in SQL).
 */
export interface Obligation {
  rule: ObligationRule;
  /** unique within the contract: the rule id, or `payment:<invoiceNo>` */
  key: string;
  /** the day the clock started (not counted, 民法典 art. 201) */
  startedOn: BusinessDate;
  /** last day on which fulfilment is on time */
  deadline: BusinessDate;
  /** may precede `startedOn` when the fulfilling fact came first (then it is met) */
  fulfilledOn: BusinessDate | null;
  exemptedOn: BusinessDate | null;
  cancelledOn: BusinessDate | null;
  /** the deadline depended on a year without an official holiday notice */
  provisional: boolean;
  /** counted in working days (delay then also reported in working days) */
  workingDayRule: boolean;
  invoiceNo?: string;
}

/** Which policy a rule's setting came from (SPEC §6: on every obligation of every answer). */
export interface PolicyRef {
  /** the policy layer whose setting applies */
  policy: string;
  /** the article that setting follows */
  source: string;
}

/** An obligation as `assessContract` finds it: its dates and the policy that set them. */
export type AssessedObligation = Obligation & PolicyRef;

export interface DataQualityFlag {
  code: DataQualityCode;
  message: string;
  eventId?: string;
}

/**
 * Prepayment target (seed item 15: 30% of the contract amount, 50% for an SME), where a policy
 * in force on the signing day sets one (SPEC §6).
 */
export interface PrepaymentTrack {
  /** the signing date: the target exists from then on */
  startedOn: BusinessDate;
  /** the percentage for this supplier (the layer's `sme` or `other`) */
  thresholdPercent: number;
  contractAmountFen: bigint;
  /** the least prepaid amount that meets the target: ceil(amount × threshold / 100) */
  requiredFen: bigint;
  /** first day the prepayments reached the target (not before signing; only prepayments made by `endedOn` count) */
  metOn: BusinessDate | null;
  /** performance completed or contract terminated, whichever first */
  endedOn: BusinessDate | null;
  exemptedOn: BusinessDate | null;
  /** every payment of kind `prepayment`, in business-time order */
  prepayments: { paymentId: string; date: BusinessDate; amountFen: bigint }[];
}

export interface InvoiceTrack {
  invoiceNo: string;
  eventId: string;
  receivedOn: BusinessDate;
  stage: InvoiceStage;
  amountFen: bigint;
  /** payment condition met: signing (prepayment/progress) or first passed acceptance (final) */
  conditionOn: BusinessDate | null;
  /** the payment clock: max(receivedOn, conditionOn); null while the condition is unmet */
  startedOn: BusinessDate | null;
  dueOn: BusinessDate | null;
  provisional: boolean;
  /** total allocated to this invoice (never more than its amount) */
  paidFen: bigint;
  /** the payment date on which allocations reached the amount */
  paidOn: BusinessDate | null;
  allocations: { paymentId: string; eventId: string; date: BusinessDate; amountFen: bigint }[];
}

export interface PaymentTrack {
  paymentId: string;
  eventId: string;
  date: BusinessDate;
  amountFen: bigint;
  kind: InvoiceStage;
  invoiceNo?: string;
  allocations: { invoiceNo: string; amountFen: bigint }[];
  unallocatedFen: bigint;
}

export interface ContractAssessment {
  contractId: string;
  purchasingUnit?: PurchasingUnit;
  supplier?: Supplier & { sme: boolean };
  project?: Project;
  awardAmountFen?: bigint;
  /** the signed amount, else the award amount */
  amountFen?: bigint;
  /** the agreed prepayment ratio (decimal string) from the signing */
  prepaymentRatio?: string;
  awardedOn?: BusinessDate;
  signedOn?: BusinessDate;
  announcedOn?: BusinessDate;
  filedOn?: BusinessDate;
  performanceCompletedOn?: BusinessDate;
  /** first passed acceptance */
  acceptedOn?: BusinessDate;
  terminatedOn?: BusinessDate;
  stage: ContractStage;
  obligations: AssessedObligation[];
  /** null when no policy in force on the signing day sets a prepayment target */
  prepayment: (PrepaymentTrack & PolicyRef) | null;
  invoices: InvoiceTrack[];
  payments: PaymentTrack[];
  /** the SME payment terms (SPEC §7) when the supplier is an SME; null otherwise */
  smePayment: SmePaymentTerms | null;
  dataQuality: DataQualityFlag[];
}
