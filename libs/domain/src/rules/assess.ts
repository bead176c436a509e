import { maxDate, type BusinessDate } from '../business-date';
import { byBusinessTime, isSme, type ContractFact } from '../facts';
import { fenToYuan } from '../money';
import type { WorkCalendar } from '../work-calendar';
import { DataQualityCodes as Q } from './data-quality';
import {
  ACCEPTANCE_RULE,
  ANNOUNCEMENT_RULE,
  deadlineOf,
  FILING_RULE,
  PAYMENT_RULE,
  SIGNING_RULE,
  type Period,
  type RuleDefinition,
} from './definitions';
import { allocatePayments } from './payments';
import type {
  ContractAssessment,
  ContractStage,
  DataQualityFlag,
  Obligation,
  ObligationRule,
  PaymentTrack,
  PrepaymentTrack,
} from './types';

type FactOf<T extends ContractFact['type']> = Extract<ContractFact, { type: T }>;

/**
 * Evaluates a contract's whole history against the rules of SPEC §3. Pure and deterministic:
 * the facts may come in any order (they are sorted by business time, then store position);
 * retracted facts are removed first, whatever their dates. The result holds dates only;
 * the status on a given day comes from `obligationStatusAsOf` / `prepaymentStatusAsOf`.
 *
 * With `asOf`, the contract as it stood on that business date: only facts dated on or before
 * it count (SPEC §3), so the stage, parties, amounts, prepayment target and data-quality flags
 * are those of that day. Retractions still void their target whatever the dates (a
 * correction of the record, not a business event); a retraction's own flag counts from its
 * date. The obligations' dates agree with those of the whole history up to `asOf`: for every
 * day T ≤ `asOf` an obligation has the same status in both.
 */
export function assessContract(
  contractId: string,
  facts: readonly ContractFact[],
  cal: WorkCalendar,
  asOf?: BusinessDate,
): ContractAssessment {
  const dataQuality: DataQualityFlag[] = [];
  const flag = (f: DataQualityFlag) => dataQuality.push(f);
  const by = (f: ContractFact) => asOf === undefined || f.date <= asOf;
  const live = liveFacts(facts).filter(by);

  // A retraction may arrive before the fact it names (SPEC §2: any arrival order); that fact
  // will be void when it comes. Until then the retraction stands out here.
  const received = new Set(facts.map((f) => f.eventId.toLowerCase()));
  const ahead = facts
    .filter((f): f is FactOf<'EventRetracted'> => f.type === 'EventRetracted')
    .filter((f) => by(f) && !received.has(f.retractedEventId.toLowerCase()))
    .sort((a, b) => (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0));
  for (const f of ahead)
    flag({
      code: Q.RETRACTION_TARGET_NOT_RECEIVED,
      message: `retraction of event ${f.retractedEventId.toLowerCase()}, which this contract has not received (yet)`,
      eventId: f.eventId,
    });

  let award: FactOf<'AwardNoticeIssued'> | undefined;
  let signed: FactOf<'ContractSigned'> | undefined;
  let announced: FactOf<'ContractAnnounced'> | undefined;
  let filed: FactOf<'ContractFiled'> | undefined;
  let performed: FactOf<'PerformanceCompleted'> | undefined;
  let accepted: FactOf<'AcceptanceCompleted'> | undefined;
  let terminated: FactOf<'ContractTerminated'> | undefined;
  const invoiceFacts: FactOf<'InvoiceReceived'>[] = [];
  const paymentFacts: FactOf<'PaymentMade'>[] = [];
  const exemptions: FactOf<'ObligationExempted'>[] = [];

  /** singletons: the first in business time counts; the store refuses a second, so flag it */
  const first = <T extends ContractFact>(held: T | undefined, f: T): T => {
    if (held === undefined) return f;
    flag({
      code: Q.DUPLICATE_FACT,
      message: `a second ${f.type} (the first, ${held.eventId}, counts)`,
      eventId: f.eventId,
    });
    return held;
  };
  for (const f of live) {
    switch (f.type) {
      case 'AwardNoticeIssued':
        award = first(award, f);
        break;
      case 'ContractSigned':
        signed = first(signed, f);
        break;
      case 'ContractAnnounced':
        announced = first(announced, f);
        break;
      case 'ContractFiled':
        filed = first(filed, f);
        break;
      case 'PerformanceCompleted':
        performed = first(performed, f);
        break;
      case 'AcceptanceCompleted':
        if (f.passed) accepted = first(accepted, f);
        break;
      case 'ContractTerminated':
        terminated = first(terminated, f);
        break;
      case 'InvoiceReceived':
        invoiceFacts.push(f);
        break;
      case 'PaymentMade':
        paymentFacts.push(f);
        break;
      case 'ObligationExempted':
        exemptions.push(f);
        break;
      case 'EventRetracted':
        break; // removed by liveFacts
      default: {
        const never: never = f;
        throw new Error(`unhandled fact ${(never as ContractFact).type}`);
      }
    }
  }

  // Lifecycle order, compared on business instants.
  if (live.length > 0 && !award) {
    flag({
      code: Q.CONTRACT_UNKNOWN,
      message: 'facts recorded for a contract without an award notice',
    });
  }
  const before = (a: ContractFact | undefined, b: ContractFact | undefined) =>
    a !== undefined && b !== undefined && a.occurredAtMs < b.occurredAtMs;
  if (signed && before(signed, award)) {
    flag({
      code: Q.SIGNED_BEFORE_AWARD,
      message: 'contract signed before the award notice',
      eventId: signed.eventId,
    });
  }
  if (announced && before(announced, signed)) {
    flag({
      code: Q.ANNOUNCED_BEFORE_SIGNING,
      message: 'contract announced before it was signed',
      eventId: announced.eventId,
    });
  }
  if (filed && before(filed, signed)) {
    flag({
      code: Q.FILED_BEFORE_SIGNING,
      message: 'contract filed before it was signed',
      eventId: filed.eventId,
    });
  }
  if (accepted && before(accepted, performed)) {
    flag({
      code: Q.ACCEPTED_BEFORE_PERFORMANCE,
      message: 'acceptance passed before performance was completed',
      eventId: accepted.eventId,
    });
  }
  if (signed && award && signed.amountFen !== award.awardAmountFen) {
    flag({
      code: Q.AMOUNT_DIFFERS_FROM_AWARD,
      message: `signed amount ${fenToYuan(signed.amountFen)} differs from award amount ${fenToYuan(award.awardAmountFen)}`,
      eventId: signed.eventId,
    });
  }
  const amountFen = signed?.amountFen ?? award?.awardAmountFen;

  // Deadline obligations.
  const obligations: Obligation[] = [];
  const open = (
    def: RuleDefinition<ObligationRule, Period>,
    key: string,
    startedOn: BusinessDate,
    fulfilledOn: BusinessDate | null,
  ): Obligation => {
    const d = deadlineOf(startedOn, def.period, cal);
    const o: Obligation = {
      rule: def.id,
      key,
      startedOn,
      deadline: d.date,
      fulfilledOn,
      exemptedOn: null,
      cancelledOn: null,
      provisional: d.provisional,
      workingDayRule: def.period.unit === 'workingDays',
    };
    obligations.push(o);
    return o;
  };
  if (award) open(SIGNING_RULE, 'signing', award.date, signed?.date ?? null);
  if (signed) {
    open(ANNOUNCEMENT_RULE, 'announcement', signed.date, announced?.date ?? null);
    open(FILING_RULE, 'filing', signed.date, filed?.date ?? null);
  }
  if (performed) open(ACCEPTANCE_RULE, 'acceptance', performed.date, accepted?.date ?? null);

  // Invoices, payments and their obligations.
  const { invoices, payments } = allocatePayments(invoiceFacts, paymentFacts, flag);
  for (const inv of invoices) {
    const condition = inv.stage === 'final' ? accepted?.date : signed?.date;
    if (condition === undefined) continue;
    inv.conditionOn = condition;
    inv.startedOn = maxDate(inv.receivedOn, condition);
    const o = open(
      PAYMENT_RULE,
      `payment:${inv.invoiceNo}`,
      inv.startedOn,
      inv.paidOn === null ? null : maxDate(inv.paidOn, inv.startedOn),
    );
    o.invoiceNo = inv.invoiceNo;
    inv.dueOn = o.deadline;
    inv.provisional = o.provisional;
  }
  if (amountFen !== undefined) {
    const inv = firstExceeding(invoices, amountFen);
    if (inv) {
      flag({
        code: Q.INVOICE_EXCEEDS_CONTRACT,
        message: `with invoice ${inv.invoiceNo} the invoices exceed the contract amount ${fenToYuan(amountFen)}`,
        eventId: inv.eventId,
      });
    }
    const pay = firstExceeding(payments, amountFen);
    if (pay) {
      flag({
        code: Q.PAYMENT_EXCEEDS_CONTRACT,
        message: `with payment ${pay.paymentId} the payments exceed the contract amount ${fenToYuan(amountFen)}`,
        eventId: pay.eventId,
      });
    }
  }

  const endedOn = earliest(performed?.date, terminated?.date);
  const prepayment = signed ? prepaymentTrack(signed, award, payments, endedOn, flag) : null;

  // Exemptions (正当理由), recorded by an inspector.
  for (const e of exemptions) {
    if (e.rule === 'prepayment') {
      if (prepayment) prepayment.exemptedOn ??= e.date;
      else unknownExemption(e, flag);
      continue;
    }
    const o = obligations.find((x) => x.key === e.key && x.rule === e.rule);
    if (o) o.exemptedOn ??= e.date;
    else unknownExemption(e, flag);
  }

  // Termination cancels what was running and unfulfilled on that day; later obligations (a
  // settlement invoice) still run.
  if (terminated) {
    const x = terminated.date;
    for (const o of obligations) {
      if (o.startedOn <= x && !(o.fulfilledOn !== null && o.fulfilledOn <= x)) o.cancelledOn = x;
    }
  }

  const stage: ContractStage = terminated
    ? 'terminated'
    : accepted
      ? 'accepted'
      : performed
        ? 'performed'
        : signed
          ? 'signed'
          : award
            ? 'awarded'
            : 'unknown';

  return {
    contractId,
    ...(award && {
      purchasingUnit: award.purchasingUnit,
      supplier: { ...award.supplier, sme: isSme(award.supplier.size) },
      project: award.project,
      awardAmountFen: award.awardAmountFen,
    }),
    ...(amountFen !== undefined && { amountFen }),
    ...(signed?.prepaymentRatio !== undefined && { prepaymentRatio: signed.prepaymentRatio }),
    ...(award && { awardedOn: award.date }),
    ...(signed && { signedOn: signed.date }),
    ...(announced && { announcedOn: announced.date }),
    ...(filed && { filedOn: filed.date }),
    ...(performed && { performanceCompletedOn: performed.date }),
    ...(accepted && { acceptedOn: accepted.date }),
    ...(terminated && { terminatedOn: terminated.date }),
    stage,
    obligations,
    prepayment,
    invoices,
    payments,
    dataQuality,
  };
}

/** Retractions applied (the retracted fact is gone, whatever its date), then sorted. */
function liveFacts(facts: readonly ContractFact[]): ContractFact[] {
  const retracted = new Set<string>();
  for (const f of facts)
    if (f.type === 'EventRetracted') retracted.add(f.retractedEventId.toLowerCase());
  return facts
    .filter((f) => f.type !== 'EventRetracted' && !retracted.has(f.eventId.toLowerCase()))
    .sort(
      (a, b) =>
        byBusinessTime(a, b) || (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0),
    );
}

function prepaymentTrack(
  signed: FactOf<'ContractSigned'>,
  award: FactOf<'AwardNoticeIssued'> | undefined,
  payments: readonly PaymentTrack[],
  endedOn: BusinessDate | undefined,
  flag: (f: DataQualityFlag) => void,
): PrepaymentTrack {
  if (!award) {
    flag({
      code: Q.SUPPLIER_UNKNOWN,
      message: 'supplier unknown (no award notice): prepayment threshold 30% assumed',
    });
  }
  const thresholdPercent = award && isSme(award.supplier.size) ? 50 : 30;
  const amount = signed.amountFen;
  const requiredFen = amount > 0n ? (amount * BigInt(thresholdPercent) + 99n) / 100n : 0n;
  const prepayments = payments
    .filter((p) => p.kind === 'prepayment')
    .map((p) => ({ paymentId: p.paymentId, date: p.date, amountFen: p.amountFen }));
  let metOn: BusinessDate | null = requiredFen === 0n ? signed.date : null;
  let sum = 0n;
  for (const p of prepayments) {
    if (metOn !== null || (endedOn !== undefined && p.date > endedOn)) break;
    sum += p.amountFen;
    if (sum * 100n >= amount * BigInt(thresholdPercent)) metOn = maxDate(p.date, signed.date);
  }
  return {
    startedOn: signed.date,
    thresholdPercent,
    contractAmountFen: amount,
    requiredFen,
    metOn,
    endedOn: endedOn ?? null,
    exemptedOn: null,
    prepayments,
  };
}

/** The item with which the running total first exceeds `limit`. */
function firstExceeding<T extends { amountFen: bigint }>(
  items: readonly T[],
  limit: bigint,
): T | undefined {
  let sum = 0n;
  return items.find((i) => (sum += i.amountFen) > limit);
}

function unknownExemption(
  e: FactOf<'ObligationExempted'>,
  flag: (f: DataQualityFlag) => void,
): void {
  flag({
    code: Q.EXEMPTION_UNKNOWN_OBLIGATION,
    message: `exemption for ${e.rule} "${e.key}" names no obligation of this contract`,
    eventId: e.eventId,
  });
}

function earliest(
  a: BusinessDate | undefined,
  b: BusinessDate | undefined,
): BusinessDate | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a < b ? a : b;
}
