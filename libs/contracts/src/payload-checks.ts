import {
  isBoolean,
  isIn,
  isInt,
  isNotEmpty,
  isObject,
  isString,
  isUUID,
  matches,
  max,
  maxLength,
  min,
} from 'class-validator';
import { isValidCreditCode } from './credit-code';
import { CODE_PATTERN, FIELD_LIMITS as L, REGION_PATTERN } from './event-payloads';
import {
  INVOICE_STAGES,
  PAYMENT_CONDITIONS,
  PAYMENT_KINDS,
  PROCUREMENT_METHODS,
  RULE_IDS,
  SUPPLIER_SIZES,
  type EventType,
} from './event-types';
import { RATE_PATTERN, RATIO_PATTERN, moneyProblem } from './money';
import { hasUnstorableText } from './storable-text';

/*
 * The rules of the payload classes (event-payloads.ts) as plain checks, for the fast path of
 * parseEnvelope (fastValidEvent): class-validator's own functions for its decorators, without
 * the metadata walk, instances and error objects that cost ~50 µs an event. They answer only
 * "valid" or "maybe not"; for the latter parseEnvelope runs the classes, which list the
 * errors. So a check here stricter than its decorators costs only time, a laxer one would be
 * a bug: fast-path.spec.ts compares both paths.
 */

/** Free text seen in one event, in UTF-16 units, for the size limit. */
export interface Tally {
  text: number;
}
export type Check = (value: unknown, tally: Tally) => boolean;
export interface Field {
  check: Check;
  /** @IsOptional: null and undefined pass unchecked */
  optional: boolean;
  /** @ValidateNested: the nested class's fields */
  nested?: Shape;
}
/** The properties of one class; any other key is refused, as the whitelist does. */
export interface Shape {
  fields: ReadonlyMap<string, Field>;
  required: number;
}

export function shape(fields: Record<string, Field>): Shape {
  const map = new Map(Object.entries(fields));
  return { fields: map, required: [...map.values()].filter((f) => !f.optional).length };
}
export const required = (check: Check): Field => ({ check, optional: false });
export const optional = (check: Check): Field => ({ check, optional: true });

/** `value` is an object with the fields of `s` and no other key, each passing its check. */
export function conforms(value: unknown, s: Shape, tally: Tally): boolean {
  if (!isObject(value)) return false;
  let present = 0;
  for (const key in value) {
    const field = s.fields.get(key);
    if (field === undefined) return false;
    const v = (value as Record<string, unknown>)[key];
    if (v === null || v === undefined) {
      if (field.optional) continue;
      return false;
    }
    if (!field.check(v, tally)) return false;
    if (!field.optional) present++;
  }
  return present === s.required;
}

/** @IsDefined @IsObject @ValidateNested @Type(() => …): a required nested object. */
const nested = (s: Shape): Field => ({
  check: (v, tally) => conforms(v, s, tally),
  optional: false,
  nested: s,
});

// The checks, one per decorator combination of event-payloads.ts.
export const pattern =
  (re: RegExp): Check =>
  (v) =>
    matches(v as string, re);
const oneOf =
  (values: readonly unknown[]): Check =>
  (v) =>
    isIn(v, values);
const intIn =
  (range: { min: number; max: number }): Check =>
  (v) =>
    isInt(v) && min(v, range.min) && max(v, range.max);
/**
 * @IsString @MaxLength, and @IsNotEmpty when `nonEmpty`. Text PostgreSQL cannot store is
 * refused (inspectShape's EVENT.INVALID_TEXT); codes and amounts never hold any, their
 * patterns are ASCII.
 */
export const text =
  (maxChars: number, nonEmpty = false): Check =>
  (v, tally) => {
    if (!isString(v) || (nonEmpty && !isNotEmpty(v))) return false;
    // MaxLength counts no more characters than UTF-16 units: the short text needs no count
    if (v.length > maxChars && !maxLength(v, maxChars)) return false;
    if (hasUnstorableText(v)) return false;
    tally.text += v.length;
    return true;
  };
export const uuid: Check = (v) => isUUID(v);
const money: Check = (v) => moneyProblem(v) === null;
const code = pattern(CODE_PATTERN);

const EMPTY = shape({});

/** The payload class of each event type (PAYLOAD_CLASSES), as checks. */
export const PAYLOAD_CHECKS: Record<EventType, Shape> = {
  AwardNoticeIssued: shape({
    purchasingUnit: nested(
      shape({
        code: required(code),
        name: required(text(L.name, true)),
        region: optional(pattern(REGION_PATTERN)),
      }),
    ),
    supplier: nested(
      shape({
        creditCode: required(isValidCreditCode),
        name: required(text(L.name, true)),
        size: required(oneOf(SUPPLIER_SIZES)),
      }),
    ),
    project: nested(
      shape({
        code: required(code),
        name: optional(text(L.projectName)),
        method: optional(text(L.projectMethod)),
      }),
    ),
    awardAmount: required(money),
  }),
  ContractSigned: shape({
    amount: required(money),
    prepaymentRatio: optional(pattern(RATIO_PATTERN)),
    acceptanceWorkingDays: optional(intIn(L.acceptanceWorkingDays)),
    paymentCondition: optional(oneOf(PAYMENT_CONDITIONS)),
    paymentTermDays: optional(intIn(L.paymentTermDays)),
    lateInterestRate: optional(pattern(RATE_PATTERN)),
  }),
  ContractAnnounced: shape({ url: optional(text(L.text)) }),
  ContractFiled: EMPTY,
  PerformanceCompleted: EMPTY,
  AcceptanceCompleted: shape({ passed: required(isBoolean) }),
  InvoiceReceived: shape({
    invoiceNo: required(code),
    amount: required(money),
    stage: required(oneOf(INVOICE_STAGES)),
  }),
  PaymentMade: shape({
    paymentId: required(code),
    amount: required(money),
    kind: required(oneOf(PAYMENT_KINDS)),
    invoiceNo: optional(code),
  }),
  ContractTerminated: shape({ reason: required(text(L.text, true)) }),
  EventRetracted: shape({
    retractedEventId: required(uuid),
    reason: required(text(L.text, true)),
  }),
  ObligationExempted: shape({
    rule: required(oneOf(RULE_IDS)),
    key: optional(text(L.obligationKey)),
    reason: required(text(L.text, true)),
  }),
  ProcurementIntentionPublished: shape({
    url: optional(text(L.text)),
    budgetAmount: optional(money),
  }),
  ProcurementNoticePublished: shape({ method: optional(oneOf(PROCUREMENT_METHODS)) }),
};
