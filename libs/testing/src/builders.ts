import { randomUUID } from 'node:crypto';
import { completeCreditCode } from '../../contracts/src/credit-code';

export interface Envelope {
  eventId: string;
  type: string;
  contractId: string;
  occurredAt: string;
  schemaVersion: number;
  correlationId?: string;
  data: Record<string, unknown>;
}

/** mulberry32: a small seeded PRNG (uniform in [0, 1)), deterministic per seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A valid supplier credit code built from a number (deterministic). */
export function creditCode(n: number): string {
  const body = `91500102MA${String(n).padStart(7, '0')}`.slice(0, 17);
  return completeCreditCode(body);
}

/** Local date (Asia/Shanghai) at 10:00 as an offset date-time. */
export function at(date: string, time = '10:00:00'): string {
  return `${date}T${time}+08:00`;
}

function envelope(
  type: string,
  contractId: string,
  date: string,
  data: Record<string, unknown> = {},
): Envelope {
  return {
    eventId: randomUUID(),
    type,
    contractId,
    occurredAt: date.includes('T') ? date : at(date),
    schemaVersion: 1,
    data,
  };
}

export interface AwardOptions {
  unit?: { code: string; name: string; region?: string };
  supplierCode?: string;
  size?: 'large' | 'medium' | 'small' | 'micro';
  amount?: string;
}

/** Given/when/then builders for envelopes of every type. */
export const ev = {
  award: (contractId: string, date: string, o: AwardOptions = {}) =>
    envelope('AwardNoticeIssued', contractId, date, {
      purchasingUnit: o.unit ?? {
        code: 'U-500102-001',
        name: '重庆市涪陵区教育委员会',
        region: '500102',
      },
      supplier: {
        creditCode: o.supplierCode ?? creditCode(1),
        name: '重庆某某科技有限公司',
        size: o.size ?? 'small',
      },
      project: { code: `P-${contractId}`, name: '教学设备采购', method: '公开招标' },
      awardAmount: o.amount ?? '1250000.00',
    }),
  signed: (contractId: string, date: string, amount = '1250000.00', prepaymentRatio?: string) =>
    envelope('ContractSigned', contractId, date, {
      amount,
      ...(prepaymentRatio ? { prepaymentRatio } : {}),
    }),
  announced: (contractId: string, date: string) =>
    envelope('ContractAnnounced', contractId, date, {}),
  filed: (contractId: string, date: string) => envelope('ContractFiled', contractId, date, {}),
  performed: (contractId: string, date: string) =>
    envelope('PerformanceCompleted', contractId, date, {}),
  accepted: (contractId: string, date: string, passed = true) =>
    envelope('AcceptanceCompleted', contractId, date, { passed }),
  invoice: (
    contractId: string,
    date: string,
    invoiceNo: string,
    amount: string,
    stage = 'progress',
  ) => envelope('InvoiceReceived', contractId, date, { invoiceNo, amount, stage }),
  payment: (
    contractId: string,
    date: string,
    paymentId: string,
    amount: string,
    kind = 'progress',
    invoiceNo?: string,
  ) =>
    envelope('PaymentMade', contractId, date, {
      paymentId,
      amount,
      kind,
      ...(invoiceNo ? { invoiceNo } : {}),
    }),
  terminated: (contractId: string, date: string, reason = '双方协商解除') =>
    envelope('ContractTerminated', contractId, date, { reason }),
  retracted: (
    contractId: string,
    date: string,
    retractedEventId: string,
    reason = '数据录入错误',
  ) => envelope('EventRetracted', contractId, date, { retractedEventId, reason }),
};
