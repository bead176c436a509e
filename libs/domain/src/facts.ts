import { businessDateOf, type BusinessDate } from './business-date';
import { yuanToFen } from './money';

export type SupplierSize = 'large' | 'medium' | 'small' | 'micro';
export type InvoiceStage = 'prepayment' | 'progress' | 'final';
export type RuleId =
  | 'signing'
  | 'announcement'
  | 'filing'
  | 'acceptance'
  | 'payment'
  | 'prepayment'
  | 'intention'
  | 'smePayment';
export type PaymentCondition = 'acceptance' | 'delivery';

interface FactBase {
  eventId: string;
  /** business time, epoch ms */
  occurredAtMs: number;
  /** business date of `occurredAt` in Asia/Shanghai */
  date: BusinessDate;
  /** position in the store: arrival order, for diagnostics only (never for ordering) */
  seq: number;
}

export interface PurchasingUnit {
  code: string;
  name: string;
  region?: string;
}
export interface Supplier {
  creditCode: string;
  name: string;
  size: SupplierSize;
}
export interface Project {
  code: string;
  name?: string;
  method?: string;
}

/** The facts of a contract's history: a tagged union, past tense. */
export type ContractFact = FactBase &
  (
    | {
        type: 'AwardNoticeIssued';
        purchasingUnit: PurchasingUnit;
        supplier: Supplier;
        project: Project;
        awardAmountFen: bigint;
      }
    | {
        type: 'ContractSigned';
        amountFen: bigint;
        prepaymentRatio?: string;
        /** the acceptance period the contract states (working days, 1–60) */
        acceptanceWorkingDays?: number;
        /** what starts the SME payment clock (SPEC §7); acceptance when absent */
        paymentCondition?: PaymentCondition;
        /** the payment term the contract agrees, calendar days (SPEC §7: at most 60) */
        paymentTermDays?: number;
        /** agreed annual late-payment interest rate, decimal string 0–1 */
        lateInterestRate?: string;
      }
    | { type: 'ContractAnnounced'; url?: string }
    | { type: 'ContractFiled' }
    | { type: 'PerformanceCompleted' }
    | { type: 'AcceptanceCompleted'; passed: boolean }
    | { type: 'InvoiceReceived'; invoiceNo: string; amountFen: bigint; stage: InvoiceStage }
    | {
        type: 'PaymentMade';
        paymentId: string;
        amountFen: bigint;
        kind: InvoiceStage;
        invoiceNo?: string;
      }
    | { type: 'ContractTerminated'; reason: string }
    | { type: 'EventRetracted'; retractedEventId: string; reason: string }
    | { type: 'ObligationExempted'; rule: RuleId; key: string; reason: string }
    | { type: 'ProcurementIntentionPublished'; url?: string; budgetAmountFen?: bigint }
    | { type: 'ProcurementNoticePublished'; method?: string }
  );

export type FactType = ContractFact['type'];

/** A stored event as the store returns it (data is the validated JSON payload). */
export interface StoredEventLike {
  eventId: string;
  type: string;
  /** ISO-8601 with offset, a Date, or epoch milliseconds */
  occurredAt: string | Date | number;
  data: Record<string, unknown>;
  seq: number;
}

/** SME = medium, small or micro enterprise (中小企业). */
export function isSme(size: SupplierSize): boolean {
  return size !== 'large';
}

/**
 * Turns a stored, validated event into a typed fact. Unknown types are a programming error.
 * Each fact is one object literal with the base fields first, in the same order for every
 * type, and optional fields assigned afterwards: the projector makes one per stored event, and
 * object spreads (`{ ...base, … }`, `...(cond && {…})`) made each one cost about 4 µs
 * (session 11, docs/benchmarks.md).
 */
export function toFact(e: StoredEventLike): ContractFact {
  const occurredAtMs =
    typeof e.occurredAt === 'number'
      ? e.occurredAt
      : e.occurredAt instanceof Date
        ? e.occurredAt.getTime()
        : Date.parse(e.occurredAt);
  const eventId = e.eventId;
  const date = businessDateOf(occurredAtMs);
  const seq = e.seq;
  const d = e.data ?? {};
  const s = (k: string) => d[k] as string;
  const opt = (k: string) => (d[k] === undefined || d[k] === null ? undefined : (d[k] as string));
  switch (e.type) {
    case 'AwardNoticeIssued':
      return {
        eventId,
        occurredAtMs,
        date,
        seq,
        type: e.type,
        purchasingUnit: d.purchasingUnit as PurchasingUnit,
        supplier: d.supplier as Supplier,
        project: d.project as Project,
        awardAmountFen: yuanToFen(s('awardAmount')),
      };
    case 'ContractSigned': {
      const f: FactOf<'ContractSigned'> = {
        eventId,
        occurredAtMs,
        date,
        seq,
        type: e.type,
        amountFen: yuanToFen(s('amount')),
        prepaymentRatio: opt('prepaymentRatio'),
      };
      if (typeof d.acceptanceWorkingDays === 'number')
        f.acceptanceWorkingDays = d.acceptanceWorkingDays;
      if (d.paymentCondition === 'delivery') f.paymentCondition = 'delivery';
      if (typeof d.paymentTermDays === 'number') f.paymentTermDays = d.paymentTermDays;
      if (typeof d.lateInterestRate === 'string') f.lateInterestRate = d.lateInterestRate;
      return f;
    }
    case 'ContractAnnounced':
      return { eventId, occurredAtMs, date, seq, type: e.type, url: opt('url') };
    case 'ContractFiled':
    case 'PerformanceCompleted':
      return { eventId, occurredAtMs, date, seq, type: e.type };
    case 'AcceptanceCompleted':
      return { eventId, occurredAtMs, date, seq, type: e.type, passed: d.passed === true };
    case 'InvoiceReceived':
      return {
        eventId,
        occurredAtMs,
        date,
        seq,
        type: e.type,
        invoiceNo: s('invoiceNo'),
        amountFen: yuanToFen(s('amount')),
        stage: s('stage') as InvoiceStage,
      };
    case 'PaymentMade':
      return {
        eventId,
        occurredAtMs,
        date,
        seq,
        type: e.type,
        paymentId: s('paymentId'),
        amountFen: yuanToFen(s('amount')),
        kind: s('kind') as InvoiceStage,
        invoiceNo: opt('invoiceNo'),
      };
    case 'ContractTerminated':
      return { eventId, occurredAtMs, date, seq, type: e.type, reason: s('reason') };
    case 'EventRetracted':
      return {
        eventId,
        occurredAtMs,
        date,
        seq,
        type: e.type,
        retractedEventId: s('retractedEventId').toLowerCase(),
        reason: s('reason'),
      };
    case 'ObligationExempted':
      return {
        eventId,
        occurredAtMs,
        date,
        seq,
        type: e.type,
        rule: s('rule') as RuleId,
        key: opt('key') ?? s('rule'),
        reason: s('reason'),
      };
    case 'ProcurementIntentionPublished': {
      const f: FactOf<'ProcurementIntentionPublished'> = {
        eventId,
        occurredAtMs,
        date,
        seq,
        type: e.type,
        url: opt('url'),
      };
      const budget = opt('budgetAmount');
      if (budget !== undefined) f.budgetAmountFen = yuanToFen(budget);
      return f;
    }
    case 'ProcurementNoticePublished':
      return { eventId, occurredAtMs, date, seq, type: e.type, method: opt('method') };
    default:
      throw new Error(`unknown stored event type ${e.type}`);
  }
}

type FactOf<T extends FactType> = Extract<ContractFact, { type: T }>;

/**
 * Orders facts by business time; facts at the same instant by eventId. Never by arrival (the
 * store position is arrival order, so it must not break ties: SPEC §2).
 */
export function byBusinessTime(a: ContractFact, b: ContractFact): number {
  return (
    a.occurredAtMs - b.occurredAtMs || (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0)
  );
}
