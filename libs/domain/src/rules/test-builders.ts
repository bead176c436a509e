/**
 * Given/when/then helpers for the rule specs. Imported only by tests (not exported by the
 * library index). Facts go through `toFact`, exactly as stored events do.
 */
import {
  toFact,
  type ContractFact,
  type InvoiceStage,
  type RuleId,
  type SupplierSize,
} from '../facts';
import type { WorkCalendar } from '../work-calendar';
import { assessContract } from './assess';
import { obligationStatusAsOf, prepaymentStatusAsOf } from './status';
import type { ContractAssessment } from './types';

/** A day (`YYYY-MM-DD`, taken at 10:00 Shanghai time) or a full ISO instant with offset. */
export type When = string;

const instant = (w: When) => (w.length === 10 ? `${w}T10:00:00+08:00` : w);

export class History {
  private seq = 0;
  private readonly events: {
    eventId: string;
    type: string;
    occurredAt: string;
    data: Record<string, unknown>;
    seq: number;
  }[] = [];
  /** the event id of the last fact added */
  lastId = '';

  constructor(readonly contractId = 'CQ-FL-2021-000123') {}

  add(type: string, when: When, data: Record<string, unknown> = {}, id?: string): this {
    this.seq += 1;
    const eventId = id ?? `e${String(this.seq).padStart(4, '0')}`;
    this.events.push({ eventId, type, occurredAt: instant(when), data, seq: this.seq });
    this.lastId = eventId;
    return this;
  }

  award(
    when: When,
    o: { size?: SupplierSize; amount?: string; unit?: string; id?: string } = {},
  ): this {
    return this.add(
      'AwardNoticeIssued',
      when,
      {
        purchasingUnit: { code: o.unit ?? 'FL-CZJ', name: '涪陵区某局', region: '500102' },
        supplier: { creditCode: '91500102MA5U3XXXXX', name: '某供应商', size: o.size ?? 'small' },
        project: { code: 'P-1' },
        awardAmount: o.amount ?? '1250000.00',
      },
      o.id,
    );
  }
  signed(when: When, o: { amount?: string; prepaymentRatio?: string; id?: string } = {}): this {
    return this.add(
      'ContractSigned',
      when,
      { amount: o.amount ?? '1250000.00', prepaymentRatio: o.prepaymentRatio },
      o.id,
    );
  }
  announced(when: When, id?: string): this {
    return this.add('ContractAnnounced', when, {}, id);
  }
  filed(when: When, id?: string): this {
    return this.add('ContractFiled', when, {}, id);
  }
  performed(when: When, id?: string): this {
    return this.add('PerformanceCompleted', when, {}, id);
  }
  accepted(when: When, passed = true, id?: string): this {
    return this.add('AcceptanceCompleted', when, { passed }, id);
  }
  invoice(
    when: When,
    invoiceNo: string,
    amount: string,
    stage: InvoiceStage = 'progress',
    id?: string,
  ): this {
    return this.add('InvoiceReceived', when, { invoiceNo, amount, stage }, id);
  }
  payment(
    when: When,
    amount: string,
    o: { invoiceNo?: string; kind?: InvoiceStage; paymentId?: string; id?: string } = {},
  ): this {
    return this.add(
      'PaymentMade',
      when,
      {
        paymentId: o.paymentId ?? `PAY-${this.seq + 1}`,
        amount,
        kind: o.kind ?? 'progress',
        invoiceNo: o.invoiceNo,
      },
      o.id,
    );
  }
  terminated(when: When, reason = 'test', id?: string): this {
    return this.add('ContractTerminated', when, { reason }, id);
  }
  retract(when: When, retractedEventId: string, reason = 'wrong fact', id?: string): this {
    return this.add('EventRetracted', when, { retractedEventId, reason }, id);
  }
  exempt(when: When, rule: RuleId, key?: string, id?: string): this {
    return this.add('ObligationExempted', when, { rule, key, reason: '正当理由' }, id);
  }

  get facts(): ContractFact[] {
    return this.events.map((e) =>
      toFact({ ...e, data: JSON.parse(JSON.stringify(e.data)) as Record<string, unknown> }),
    );
  }
}

export const given = (contractId?: string) => new History(contractId);

export function assess(h: History, cal: WorkCalendar): ContractAssessment {
  return assessContract(h.contractId, h.facts, cal);
}

export function obligation(a: ContractAssessment, key: string) {
  const o = a.obligations.find((x) => x.key === key);
  if (!o)
    throw new Error(`no obligation ${key}; have ${a.obligations.map((x) => x.key).join(', ')}`);
  return o;
}

/** The obligation `key` and its status as of `asOf`, flattened for one `toMatchObject`. */
export function statusOf(a: ContractAssessment, key: string, asOf: string, cal: WorkCalendar) {
  const o = obligation(a, key);
  return { ...o, ...obligationStatusAsOf(o, asOf, cal) };
}

export function prepaymentOf(a: ContractAssessment, asOf: string) {
  if (!a.prepayment) throw new Error('no prepayment track');
  return { ...a.prepayment, ...prepaymentStatusAsOf(a.prepayment, asOf) };
}

export const codes = (a: ContractAssessment) => a.dataQuality.map((f) => f.code);
