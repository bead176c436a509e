/** Every event type of SPEC §2. */
export const EVENT_TYPES = [
  'AwardNoticeIssued',
  'ContractSigned',
  'ContractAnnounced',
  'ContractFiled',
  'PerformanceCompleted',
  'AcceptanceCompleted',
  'InvoiceReceived',
  'PaymentMade',
  'ContractTerminated',
  'EventRetracted',
  'ObligationExempted',
  'ProcurementIntentionPublished',
  'ProcurementNoticePublished',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export function isEventType(t: unknown): t is EventType {
  return typeof t === 'string' && (EVENT_TYPES as readonly string[]).includes(t);
}

/** Recorded only by an inspector through the exemptions API, never by a platform. */
export const INSPECTOR_ONLY_TYPES: readonly EventType[] = ['ObligationExempted'];

export const SUPPLIER_SIZES = ['large', 'medium', 'small', 'micro'] as const;
export type SupplierSize = (typeof SUPPLIER_SIZES)[number];

export const INVOICE_STAGES = ['prepayment', 'progress', 'final'] as const;
export type InvoiceStage = (typeof INVOICE_STAGES)[number];

export const PAYMENT_KINDS = INVOICE_STAGES;
export type PaymentKind = InvoiceStage;

/**
 * Rule ids of SPEC §3, §6 and §7 (`intention`: procurement intention published in time;
 * `smePayment`: an SME paid within 30/60 days, 保障中小企业款项支付条例).
 */
export const RULE_IDS = [
  'signing',
  'announcement',
  'filing',
  'acceptance',
  'payment',
  'prepayment',
  'intention',
  'smePayment',
] as const;

/** What starts the SME payment clock (SPEC §7, 保障中小企业款项支付条例 arts. 9, 10). */
export const PAYMENT_CONDITIONS = ['acceptance', 'delivery'] as const;
export type PaymentCondition = (typeof PAYMENT_CONDITIONS)[number];
export type RuleId = (typeof RULE_IDS)[number];

/** Procurement methods of a procurement notice (SPEC §6, 政府采购法 art. 26). */
export const PROCUREMENT_METHODS = [
  'open_tender',
  'invited_tender',
  'competitive_negotiation',
  'competitive_consultation',
  'single_source',
  'inquiry',
] as const;
export type ProcurementMethod = (typeof PROCUREMENT_METHODS)[number];

export const CONTRACT_ID_PATTERN = /^[A-Za-z0-9._:/-]{1,64}$/;
/** Of the envelope's free-text `correlationId`. */
export const MAX_CORRELATION_ID_LENGTH = 200;
export const MAX_EVENTS_PER_REQUEST = 1000;
export const MAX_EVENT_BYTES = 64 * 1024;
/** Earliest acceptable business time. */
export const MIN_OCCURRED_AT = Date.parse('2000-01-01T00:00:00+08:00');
/** How far in the future `occurredAt` may be (clock skew between platforms and us). */
export const MAX_FUTURE_SKEW_MS = 5 * 60 * 1000;
