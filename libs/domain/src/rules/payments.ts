import type { ContractFact } from '../facts';
import { fenToYuan } from '../money';
import { DataQualityCodes as Q } from './data-quality';
import type { DataQualityFlag, InvoiceTrack, PaymentTrack } from './types';

type InvoiceFact = Extract<ContractFact, { type: 'InvoiceReceived' }>;
type PaymentFact = Extract<ContractFact, { type: 'PaymentMade' }>;

export interface Allocation {
  invoices: InvoiceTrack[];
  payments: PaymentTrack[];
}

/**
 * Allocates payments to invoices, processing payments in business-time order:
 * - a payment naming a known invoice goes to it, even when the invoice is dated later
 *   (PAYMENT.BEFORE_INVOICE when the payment date is before the invoice date);
 * - a payment naming an unknown invoice stays unallocated (PAYMENT.UNKNOWN_INVOICE);
 * - a payment naming none goes to the oldest open invoice received on or before its date,
 *   the remainder to the next oldest open ones (PAYMENT.WITHOUT_INVOICE when there is none);
 * - whatever exceeds what is still owed stays unallocated (PAYMENT.EXCEEDS_INVOICE).
 * Both inputs are sorted by business time. Conditions and deadlines are set by the caller.
 */
export function allocatePayments(
  invoiceFacts: readonly InvoiceFact[],
  paymentFacts: readonly PaymentFact[],
  flag: (f: DataQualityFlag) => void,
): Allocation {
  const invoices: InvoiceTrack[] = [];
  const byNo = new Map<string, InvoiceTrack>();
  for (const f of invoiceFacts) {
    if (byNo.has(f.invoiceNo)) {
      flag({
        code: Q.INVOICE_DUPLICATE,
        message: `invoice ${f.invoiceNo} received twice; the first one counts`,
        eventId: f.eventId,
      });
      continue;
    }
    const inv: InvoiceTrack = {
      invoiceNo: f.invoiceNo,
      eventId: f.eventId,
      receivedOn: f.date,
      stage: f.stage,
      amountFen: f.amountFen,
      conditionOn: null,
      startedOn: null,
      dueOn: null,
      provisional: false,
      paidFen: 0n,
      paidOn: f.amountFen <= 0n ? f.date : null,
      allocations: [],
    };
    invoices.push(inv);
    byNo.set(f.invoiceNo, inv);
  }

  const allocate = (inv: InvoiceTrack, p: PaymentFact, amount: bigint, out: PaymentTrack) => {
    inv.paidFen += amount;
    inv.allocations.push({
      paymentId: p.paymentId,
      eventId: p.eventId,
      date: p.date,
      amountFen: amount,
    });
    if (inv.paidOn === null && inv.paidFen >= inv.amountFen) inv.paidOn = p.date;
    out.allocations.push({ invoiceNo: inv.invoiceNo, amountFen: amount });
    out.unallocatedFen -= amount;
  };
  const owed = (inv: InvoiceTrack) => inv.amountFen - inv.paidFen;

  const payments: PaymentTrack[] = [];
  for (const p of paymentFacts) {
    const track: PaymentTrack = {
      paymentId: p.paymentId,
      eventId: p.eventId,
      date: p.date,
      amountFen: p.amountFen,
      kind: p.kind,
      ...(p.invoiceNo !== undefined ? { invoiceNo: p.invoiceNo } : {}),
      allocations: [],
      unallocatedFen: p.amountFen,
    };
    payments.push(track);
    if (p.invoiceNo !== undefined) {
      const inv = byNo.get(p.invoiceNo);
      if (!inv) {
        flag({
          code: Q.PAYMENT_UNKNOWN_INVOICE,
          message: `payment ${p.paymentId} names invoice ${p.invoiceNo}, which was never received`,
          eventId: p.eventId,
        });
        continue;
      }
      if (p.date < inv.receivedOn) {
        flag({
          code: Q.PAYMENT_BEFORE_INVOICE,
          message: `payment ${p.paymentId} on ${p.date} precedes invoice ${inv.invoiceNo} received on ${inv.receivedOn}`,
          eventId: p.eventId,
        });
      }
      const part = minFen(p.amountFen, owed(inv));
      if (part > 0n) allocate(inv, p, part, track);
    } else {
      const open = invoices.filter((i) => i.receivedOn <= p.date && owed(i) > 0n);
      if (open.length === 0) {
        flag({
          code: Q.PAYMENT_WITHOUT_INVOICE,
          message: `payment ${p.paymentId} on ${p.date} names no invoice and no invoice was open`,
          eventId: p.eventId,
        });
        continue;
      }
      for (const inv of open) {
        if (track.unallocatedFen <= 0n) break;
        allocate(inv, p, minFen(track.unallocatedFen, owed(inv)), track);
      }
    }
    if (track.unallocatedFen > 0n) {
      flag({
        code: Q.PAYMENT_EXCEEDS_INVOICE,
        message: `payment ${p.paymentId} pays ${fenToYuan(track.unallocatedFen)} yuan more than invoiced and still owed`,
        eventId: p.eventId,
      });
    }
  }
  return { invoices, payments };
}

function minFen(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
