import { maxDate, type BusinessDate } from '../business-date';
import { byBusinessTime, isSme, type ContractFact } from '../facts';
import { fenToYuan } from '../money';
import type { WorkCalendar } from '../work-calendar';
import { DataQualityCodes as Q } from './data-quality';
import { ruleDeadline, RULES, type RuleDefinition } from './definitions';
import { allocatePayments } from './payments';
import { paidInFullOn, termDaysOf, SME_PAYMENT, type SmePaymentTerms } from './sme-payment';
import { BUILT_IN_POLICIES, periodOf, ruleInForce, type PolicyLayer } from './policies';
import type {
  ContractAssessment,
  ContractStage,
  DataQualityFlag,
  InvoiceTrack,
  Obligation,
  AssessedObligation,
  ObligationRule,
  PaymentTrack,
  PolicyRef,
  PrepaymentTrack,
} from './types';

type FactOf<T extends ContractFact['type']> = Extract<ContractFact, { type: T }>;
type Flag = (f: DataQualityFlag) => void;

/** The facts of a contract that count, by kind: the singletons of its lifecycle, the lists. */
interface ContractFacts {
  award?: FactOf<'AwardNoticeIssued'>;
  signed?: FactOf<'ContractSigned'>;
  announced?: FactOf<'ContractAnnounced'>;
  filed?: FactOf<'ContractFiled'>;
  performed?: FactOf<'PerformanceCompleted'>;
  /** a passed acceptance (a failed one fulfils nothing) */
  accepted?: FactOf<'AcceptanceCompleted'>;
  terminated?: FactOf<'ContractTerminated'>;
  intention?: FactOf<'ProcurementIntentionPublished'>;
  notice?: FactOf<'ProcurementNoticePublished'>;
  invoices: FactOf<'InvoiceReceived'>[];
  payments: FactOf<'PaymentMade'>[];
  exemptions: FactOf<'ObligationExempted'>[];
}

/**
 * The rules in force for one contract (SPEC §6): the policy layers, the unit's region, and the
 * calendar. The region is the one the contract's award names (its whole history): which layer
 * applies is a property of the contract, the same on every day, so that an obligation has the
 * same status as of any day in every assessment.
 */
interface RuleContext {
  layers: readonly PolicyLayer[];
  region: string | undefined;
  cal: WorkCalendar;
  /** periods the contract states for itself (a rule's `contractPeriod` names which) */
  contractPeriods: Partial<Record<NonNullable<RuleDefinition['contractPeriod']>, number>>;
}

/**
 * Evaluates a contract's whole history against the rules of SPEC §3, with the periods and
 * thresholds of the policy layers in force (SPEC §6; the built-in ones by default). Pure and deterministic:
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
 *
 * The steps below each build a part of the assessment (flags in the order they are raised);
 * they mutate only what this call has created.
 */
export function assessContract(
  contractId: string,
  facts: readonly ContractFact[],
  cal: WorkCalendar,
  asOf?: BusinessDate,
  policies: readonly PolicyLayer[] = BUILT_IN_POLICIES,
): ContractAssessment {
  const dataQuality: DataQualityFlag[] = [];
  const flag: Flag = (f) => dataQuality.push(f);
  const by = (f: ContractFact) => asOf === undefined || f.date <= asOf;
  const all = liveFacts(facts);
  const live = all.filter(by);

  flagRetractionsAhead(facts, by, flag);
  const c = collectFacts(live, flag);
  flagLifecycleOrder(c, live.some(isContractFact), flag);
  const amountFen = c.signed?.amountFen ?? c.award?.awardAmountFen;
  const award = all.find((f): f is FactOf<'AwardNoticeIssued'> => f.type === 'AwardNoticeIssued');
  const signed = all.find((f): f is FactOf<'ContractSigned'> => f.type === 'ContractSigned');
  const ctx: RuleContext = {
    layers: policies,
    region: award?.purchasingUnit.region,
    cal,
    contractPeriods: { acceptanceWorkingDays: signed?.acceptanceWorkingDays },
  };

  const obligations = deadlineObligations(c, ctx);
  const { invoices, payments } = allocatePayments(c.invoices, c.payments, flag);
  obligations.push(...paymentObligations(invoices, c, ctx));
  if (amountFen !== undefined) flagExcessOverContract(invoices, payments, amountFen, flag);
  // like the region, the supplier's size and the agreed terms are the contract's, from its
  // whole history: the obligation has the same dates as of any day (the read models hold the
  // whole history's)
  const smePayment = smePaymentTerms(award, signed, c.signed !== undefined, flag);
  const sme = smePayment && smePaymentObligation(smePayment, c, obligations, payments, ctx);
  if (sme) obligations.push(sme);

  const endedOn = earliest(c.performed?.date, c.terminated?.date);
  const prepayment = c.signed
    ? prepaymentTrack(c.signed, c.award, payments, endedOn, ctx, flag)
    : null;
  applyExemptions(c.exemptions, obligations, prepayment, flag);
  if (c.terminated) cancelOnTermination(obligations, c.terminated.date);

  return {
    contractId,
    ...(c.award && {
      purchasingUnit: c.award.purchasingUnit,
      supplier: { ...c.award.supplier, sme: isSme(c.award.supplier.size) },
      project: c.award.project,
      awardAmountFen: c.award.awardAmountFen,
    }),
    ...(amountFen !== undefined && { amountFen }),
    ...(c.signed?.prepaymentRatio !== undefined && { prepaymentRatio: c.signed.prepaymentRatio }),
    ...(c.award && { awardedOn: c.award.date }),
    ...(c.signed && { signedOn: c.signed.date }),
    ...(c.announced && { announcedOn: c.announced.date }),
    ...(c.filed && { filedOn: c.filed.date }),
    ...(c.performed && { performanceCompletedOn: c.performed.date }),
    ...(c.accepted && { acceptedOn: c.accepted.date }),
    ...(c.terminated && { terminatedOn: c.terminated.date }),
    stage: stageOf(c),
    obligations,
    prepayment,
    invoices,
    payments,
    smePayment,
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

/**
 * A retraction may arrive before the fact it names (SPEC §2: any arrival order); that fact
 * will be void when it comes. Until then the retraction stands out here (in eventId order).
 */
function flagRetractionsAhead(
  facts: readonly ContractFact[],
  by: (f: ContractFact) => boolean,
  flag: Flag,
): void {
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
}

/** Sorts the live facts (in business-time order) by kind. */
function collectFacts(live: readonly ContractFact[], flag: Flag): ContractFacts {
  const c: ContractFacts = { invoices: [], payments: [], exemptions: [] };
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
        c.award = first(c.award, f);
        break;
      case 'ContractSigned':
        c.signed = first(c.signed, f);
        break;
      case 'ContractAnnounced':
        c.announced = first(c.announced, f);
        break;
      case 'ContractFiled':
        c.filed = first(c.filed, f);
        break;
      case 'PerformanceCompleted':
        c.performed = first(c.performed, f);
        break;
      case 'AcceptanceCompleted':
        if (f.passed) c.accepted = first(c.accepted, f);
        break;
      case 'ContractTerminated':
        c.terminated = first(c.terminated, f);
        break;
      case 'InvoiceReceived':
        c.invoices.push(f);
        break;
      case 'PaymentMade':
        c.payments.push(f);
        break;
      case 'ObligationExempted':
        c.exemptions.push(f);
        break;
      case 'ProcurementIntentionPublished':
        c.intention = first(c.intention, f);
        break;
      case 'ProcurementNoticePublished':
        c.notice = first(c.notice, f);
        break;
      case 'EventRetracted':
        break; // removed by liveFacts
      default: {
        const never: never = f;
        throw new Error(`unhandled fact ${(never as ContractFact).type}`);
      }
    }
  }
  return c;
}

/** Lifecycle order, compared on business instants; the signed amount against the award's. */
function flagLifecycleOrder(c: ContractFacts, anyFact: boolean, flag: Flag): void {
  const { award, signed, announced, filed, performed, accepted } = c;
  if (anyFact && !award) {
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
}

/**
 * The obligation of `rule` whose clock started on `startedOn`, with the setting of the layer
 * in force that day for the contract's unit; null when no layer monitors the rule then (not in
 * force, `off`, or a period the contract was to state and does not).
 */
function obligationOf(
  rule: ObligationRule,
  key: string,
  startedOn: BusinessDate,
  fulfilledOn: BusinessDate | null,
  ctx: RuleContext,
): AssessedObligation | null {
  const r = ruleInForce(ctx.layers, rule, ctx.region, startedOn);
  const field = RULES[rule].contractPeriod;
  const period = r && periodOf(r, field && ctx.contractPeriods[field]);
  if (!r || !period) return null;
  const d = ruleDeadline(rule, startedOn, period, ctx.cal);
  return {
    rule,
    key,
    startedOn,
    deadline: d.date,
    fulfilledOn,
    exemptedOn: null,
    cancelledOn: null,
    provisional: d.provisional,
    workingDayRule: period.unit === 'workingDays',
    policy: r.policy,
    source: r.source,
  };
}

/**
 * The deadline obligations of the procurement and the lifecycle: intention (SPEC §6, due
 * before the notice), signing, announcement, filing, acceptance.
 */
function deadlineObligations(c: ContractFacts, ctx: RuleContext): AssessedObligation[] {
  const out: (AssessedObligation | null)[] = [];
  if (c.notice) {
    const on = c.notice.date;
    out.push(obligationOf('intention', 'intention', on, c.intention?.date ?? null, ctx));
  }
  if (c.award)
    out.push(obligationOf('signing', 'signing', c.award.date, c.signed?.date ?? null, ctx));
  if (c.signed) {
    const on = c.signed.date;
    out.push(obligationOf('announcement', 'announcement', on, c.announced?.date ?? null, ctx));
    out.push(obligationOf('filing', 'filing', on, c.filed?.date ?? null, ctx));
  }
  if (c.performed) {
    const on = c.performed.date;
    out.push(obligationOf('acceptance', 'acceptance', on, c.accepted?.date ?? null, ctx));
  }
  return out.filter((o): o is AssessedObligation => o !== null);
}

/**
 * One payment obligation per invoice whose condition is met (signing; acceptance for a final
 * invoice), in invoice order; sets the invoice's condition, start, due date and provisional
 * flag from it.
 */
function paymentObligations(
  invoices: readonly InvoiceTrack[],
  c: ContractFacts,
  ctx: RuleContext,
): AssessedObligation[] {
  const out: AssessedObligation[] = [];
  for (const inv of invoices) {
    const condition = inv.stage === 'final' ? c.accepted?.date : c.signed?.date;
    if (condition === undefined) continue;
    inv.conditionOn = condition;
    inv.startedOn = maxDate(inv.receivedOn, condition);
    const o = obligationOf(
      'payment',
      `payment:${inv.invoiceNo}`,
      inv.startedOn,
      inv.paidOn === null ? null : maxDate(inv.paidOn, inv.startedOn),
      ctx,
    );
    if (!o) continue; // no payment rule in force: the invoice is listed without a due date
    o.invoiceNo = inv.invoiceNo;
    inv.dueOn = o.deadline;
    inv.provisional = o.provisional;
    out.push(o);
  }
  return out;
}

/**
 * The SME payment terms (SPEC §7) when the award names an SME (size medium, small or micro;
 * art. 3: as declared at award): what starts the clock, the term counted, the interest rate
 * agreed, the amount owed. Flags a term over the lawful 60 days (art. 9).
 */
function smePaymentTerms(
  award: FactOf<'AwardNoticeIssued'> | undefined,
  signed: FactOf<'ContractSigned'> | undefined,
  signedByNow: boolean,
  flag: Flag,
): SmePaymentTerms | null {
  if (!award || !isSme(award.supplier.size)) return null;
  const agreed = signed?.paymentTermDays ?? null;
  if (signedByNow && agreed !== null && agreed > SME_PAYMENT.maxTermDays) {
    flag({
      code: Q.PAYMENT_TERM_OVER_LIMIT,
      message: `payment term of ${agreed} days agreed with an SME: at most ${SME_PAYMENT.maxTermDays} (保障中小企业款项支付条例 art. 9); counted as ${SME_PAYMENT.maxTermDays}`,
      eventId: signed!.eventId,
    });
  }
  return {
    condition: signed?.paymentCondition ?? 'acceptance',
    agreedTermDays: agreed,
    termDays: termDaysOf(agreed),
    annualRate: signed?.lateInterestRate ?? null,
    owedFen: signed?.amountFen ?? award.awardAmountFen,
  };
}

/**
 * The SME payment obligation (SPEC §7), once its clock has started: at delivery
 * (`paymentCondition: "delivery"`), else at the passed acceptance — or at the acceptance
 * deadline in force when acceptance is late or has not happened by then (art. 10 ¶2:
 * 拖延验收的，付款期限自约定的验收期限届满之日起算). With no acceptance deadline in force (the
 * national layer, a contract stating no acceptance period) only a passed acceptance starts it.
 * The period is the term counted, in calendar days, moved off a rest day (民法典 art. 203);
 * fulfilled the day all payments of the contract reach the contract amount.
 */
function smePaymentObligation(
  terms: SmePaymentTerms,
  c: ContractFacts,
  deadlines: readonly AssessedObligation[],
  payments: readonly PaymentTrack[],
  ctx: RuleContext,
): AssessedObligation | null {
  let start: BusinessDate | undefined;
  let provisional = false;
  if (terms.condition === 'delivery') {
    start = c.performed?.date;
  } else {
    const acceptance = deadlines.find((o) => o.rule === 'acceptance');
    if (c.accepted && (!acceptance || c.accepted.date <= acceptance.deadline)) {
      start = c.accepted.date;
    } else if (acceptance) {
      start = acceptance.deadline;
      provisional = acceptance.provisional;
    }
  }
  if (start === undefined) return null;
  const r = ruleInForce(ctx.layers, 'smePayment', ctx.region, start);
  if (!r || !('period' in r.setting)) return null;
  const { n } = r.setting.period;
  // the contract's own term (capped at 60) where it states one, else the law's
  const days = terms.agreedTermDays !== null || n === 'contract' ? terms.termDays : n;
  const d = ruleDeadline('smePayment', start, { unit: 'calendarDays', n: days }, ctx.cal);
  const paid = payments.map((p) => ({ date: p.date, amountFen: p.amountFen }));
  return {
    rule: 'smePayment',
    key: 'smePayment',
    startedOn: start,
    deadline: d.date,
    fulfilledOn: terms.owedFen <= 0n ? start : paidInFullOn(terms.owedFen, paid),
    exemptedOn: null,
    cancelledOn: null,
    provisional: provisional || d.provisional,
    workingDayRule: false,
    policy: r.policy,
    source: r.source,
  };
}

/** Flags the invoice, and the payment, with which the running total exceeds the contract. */
function flagExcessOverContract(
  invoices: readonly InvoiceTrack[],
  payments: readonly PaymentTrack[],
  amountFen: bigint,
  flag: Flag,
): void {
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

/** Exemptions (正当理由), recorded by an inspector: the first one of an obligation counts. */
function applyExemptions(
  exemptions: readonly FactOf<'ObligationExempted'>[],
  obligations: readonly Obligation[],
  prepayment: PrepaymentTrack | null,
  flag: Flag,
): void {
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
}

/**
 * Termination cancels what was running and unfulfilled on that day; later obligations (a
 * settlement invoice) still run.
 */
function cancelOnTermination(obligations: readonly Obligation[], x: BusinessDate): void {
  for (const o of obligations) {
    if (o.startedOn <= x && !(o.fulfilledOn !== null && o.fulfilledOn <= x)) o.cancelledOn = x;
  }
}

/** The furthest lifecycle step reached. */
function stageOf(c: ContractFacts): ContractStage {
  if (c.terminated) return 'terminated';
  if (c.accepted) return 'accepted';
  if (c.performed) return 'performed';
  if (c.signed) return 'signed';
  if (c.award) return 'awarded';
  return 'unknown';
}

function prepaymentTrack(
  signed: FactOf<'ContractSigned'>,
  award: FactOf<'AwardNoticeIssued'> | undefined,
  payments: readonly PaymentTrack[],
  endedOn: BusinessDate | undefined,
  ctx: RuleContext,
  flag: Flag,
): (PrepaymentTrack & PolicyRef) | null {
  const r = ruleInForce(ctx.layers, 'prepayment', ctx.region, signed.date);
  if (!r || !('thresholdPercent' in r.setting)) return null;
  const { sme, other } = r.setting.thresholdPercent;
  if (!award) {
    flag({
      code: Q.SUPPLIER_UNKNOWN,
      message: `supplier unknown (no award notice): prepayment threshold ${other}% assumed`,
    });
  }
  const thresholdPercent = award && isSme(award.supplier.size) ? sme : other;
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
    policy: r.policy,
    source: r.source,
    contractAmountFen: amount,
    requiredFen,
    metOn,
    endedOn: endedOn ?? null,
    exemptedOn: null,
    prepayments,
  };
}

/** A fact of the contract itself (the procurement before the award does not make one). */
function isContractFact(f: ContractFact): boolean {
  return f.type !== 'ProcurementIntentionPublished' && f.type !== 'ProcurementNoticePublished';
}

/** The item with which the running total first exceeds `limit`. */
function firstExceeding<T extends { amountFen: bigint }>(
  items: readonly T[],
  limit: bigint,
): T | undefined {
  let sum = 0n;
  return items.find((i) => (sum += i.amountFen) > limit);
}

function unknownExemption(e: FactOf<'ObligationExempted'>, flag: Flag): void {
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
