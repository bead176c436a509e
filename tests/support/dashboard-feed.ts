import { ProjectorDaemon } from '@app/projections';
import { at, creditCode, ev, mulberry32, type Envelope } from '@app/testing';
import { auth } from './auth';
import type { TestApp } from './test-app';

/**
 * A deterministic feed for the dashboard suites and screenshots: purchasing units in six
 * districts (five in Chongqing, one in Beijing under the national layer), contracts awarded in
 * 2025 with every kind of outcome (on time, late, overdue, pending), plus a few contracts the
 * tests name. "Today" is NOW (a Monday); the calendar of 2025 is official.
 */
export const NOW = Date.parse('2025-12-15T10:00:00+08:00');
export const TODAY = '2025-12-15';

export const UNITS = [
  { code: 'U-500102-001', name: '重庆市涪陵区教育委员会', region: '500102' },
  { code: 'U-500102-002', name: '重庆市涪陵区卫生健康委员会', region: '500102' },
  { code: 'U-500102-003', name: '重庆市涪陵区城市管理局', region: '500102' },
  { code: 'U-500103-001', name: '重庆市渝中区教育委员会', region: '500103' },
  { code: 'U-500103-002', name: '重庆市渝中区市场监督管理局', region: '500103' },
  { code: 'U-500105-001', name: '重庆市江北区住房和城乡建设委员会', region: '500105' },
  { code: 'U-500106-001', name: '重庆市沙坪坝区交通局', region: '500106' },
  { code: 'U-500112-001', name: '重庆市渝北区农业农村委员会', region: '500112' },
  { code: 'U-110105-001', name: '北京市朝阳区教育委员会', region: '110105' },
];

/** The supplier of the default supplier token (tests/support/auth.ts) and another one. */
export const SUPPLIER_A = creditCode(1);
export const SUPPLIER_B = creditCode(2);

/** Signed, never announced: the announcement is overdue (the exemption test's target). */
export const C_EXEMPT = 'CQ-FL-2025-EX01';
/** Supplier B's contract: supplier A's token must not see it. */
export const C_OTHER = 'CQ-YZ-2025-B001';
/** A full history with a retracted payment and a payment without an invoice. */
export const C_STORY = 'CQ-FL-2025-0123';

function addDays(date: string, n: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

const SUPPLIER_NAMES = [
  '重庆某某科技有限公司',
  '重庆渝信数据服务有限公司',
  '重庆长江建设工程有限公司',
  '四川蜀道物业管理有限公司',
  '重庆山城医疗器械有限公司',
];

/** `n` generated contracts and the named ones, in an order the decider accepts. */
export function dashboardFeed(n = 60, seed = 20251215): Envelope[] {
  const rnd = mulberry32(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)];
  const out: Envelope[] = [];
  for (let i = 1; i <= n; i++) {
    const id = `CQ-2025-${String(i).padStart(4, '0')}`;
    const unit = UNITS[i % UNITS.length];
    const supplierNo = 10 + (i % 5);
    const award = addDays('2025-01-06', Math.floor(rnd() * 320));
    if (award > TODAY) continue;
    const amountFen = 50_000_00 + Math.floor(rnd() * 2_000_000) * 100 + (i % 7) * 13;
    const amount = `${Math.floor(amountFen / 100)}.${String(amountFen % 100).padStart(2, '0')}`;
    const size = pick(['large', 'medium', 'small', 'micro'] as const);
    const events: Envelope[] = [
      ev.award(id, award, { unit, supplierCode: creditCode(supplierNo), size, amount }),
    ];
    events[0].data.supplier = {
      creditCode: creditCode(supplierNo),
      name: SUPPLIER_NAMES[i % 5],
      size,
    };
    const signedOn = addDays(award, 3 + Math.floor(rnd() * (unit.region === '500103' ? 40 : 24)));
    if (signedOn <= TODAY) {
      events.push(ev.signed(id, signedOn, amount));
      if (rnd() < 0.85) {
        const d = addDays(signedOn, Math.floor(rnd() * (i % 4 === 0 ? 9 : 3)));
        if (d <= TODAY) events.push(ev.announced(id, d));
      }
      if (rnd() < 0.8) {
        const d = addDays(signedOn, 2 + Math.floor(rnd() * 12));
        if (d <= TODAY) events.push(ev.filed(id, d));
      }
      const performed = addDays(signedOn, 20 + Math.floor(rnd() * 60));
      if (performed <= TODAY) {
        events.push(ev.performed(id, performed));
        const accepted = addDays(performed, 1 + Math.floor(rnd() * 14));
        if (accepted <= TODAY && rnd() < 0.9) {
          events.push(ev.accepted(id, accepted));
          const invoiced = addDays(accepted, Math.floor(rnd() * 5));
          if (invoiced <= TODAY) {
            events.push(ev.invoice(id, invoiced, `INV-${i}`, amount, 'final'));
            const paid = addDays(invoiced, 1 + Math.floor(rnd() * (i % 3 === 0 ? 25 : 8)));
            if (paid <= TODAY && rnd() < 0.85)
              events.push(ev.payment(id, paid, `PAY-${i}`, amount, 'final', `INV-${i}`));
          }
        }
      }
    }
    out.push(...events);
  }
  // the named contracts
  const fuling = UNITS[0];
  out.push(
    ev.award(C_EXEMPT, '2025-11-03', {
      unit: fuling,
      supplierCode: SUPPLIER_A,
      size: 'small',
      amount: '380000.00',
    }),
    ev.signed(C_EXEMPT, '2025-11-20', '380000.00'),
    ev.filed(C_EXEMPT, '2025-11-24'),
    ev.award(C_OTHER, '2025-09-01', {
      unit: UNITS[3],
      supplierCode: SUPPLIER_B,
      size: 'medium',
      amount: '99000.00',
    }),
    ev.signed(C_OTHER, '2025-09-10', '99000.00'),
  );
  const wrongPayment = ev.payment(
    C_STORY,
    '2025-07-10',
    'PAY-WRONG',
    '100000.00',
    'progress',
    'INV-001',
  );
  out.push(
    // the award said 1,200,000.00: the signed amount differs (a data-quality flag)
    ev.award(C_STORY, '2025-05-06', {
      unit: fuling,
      supplierCode: SUPPLIER_A,
      size: 'small',
      amount: '1200000.00',
    }),
    ev.signed(C_STORY, '2025-05-20', '1250000.00', '0.30'),
    ev.announced(C_STORY, '2025-05-21'),
    ev.filed(C_STORY, '2025-06-05'),
    ev.invoice(C_STORY, '2025-05-22', 'PRE-1', '375000.00', 'prepayment'),
    ev.payment(C_STORY, '2025-05-26', 'PAY-PRE', '375000.00', 'prepayment', 'PRE-1'),
    ev.performed(C_STORY, '2025-06-30'),
    ev.accepted(C_STORY, '2025-07-04'),
    ev.invoice(C_STORY, '2025-07-07', 'INV-001', '875000.00', 'final'),
    wrongPayment,
    ev.retracted(C_STORY, '2025-07-11', wrongPayment.eventId, '金额填写错误'),
    ev.payment(C_STORY, '2025-07-28', 'PAY-002', '500000.00', 'final'),
  );
  return out;
}

/** Posts the feed through POST /v1/events (a platform's token), then projects it. */
export async function postFeed(t: TestApp, events: Envelope[]): Promise<void> {
  for (let i = 0; i < events.length; i += 1000) {
    const res = await fetch(`${t.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth('platform') },
      body: JSON.stringify(events.slice(i, i + 1000)),
    });
    const body = (await res.json()) as {
      results: Array<{ status: string; code?: string; eventId: string }>;
    };
    const bad = body.results.filter((r) => r.status === 'rejected');
    if (res.status !== 200 || bad.length > 0)
      throw new Error(`feed refused (${res.status}): ${JSON.stringify(bad.slice(0, 3))}`);
  }
  await t.app.get(ProjectorDaemon).catchUp();
}

export { at };
