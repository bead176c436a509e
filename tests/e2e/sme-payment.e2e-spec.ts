/**
 * SME payment (SPEC §7, issue #13) on the real application over HTTP: the worked example, the
 * late interest per contract, supplier and unit, the annual disclosure (JSON, CSV, .xlsx) and
 * payment performance — every figure checked against the per-contract answers of
 * `GET /v1/contracts/{id}` and the supplier answers for the same feed: the benchmark
 * generator's SME payment histories (on time, late, unpaid; agreed terms and rates; delivery
 * as the condition) plus hand-made contracts.
 */
import ExcelJS from 'exceljs';
import { meanHalfUp, rateDown, yuanToFen, fenToYuan } from '@app/domain';
import { creditCode, ev, type Envelope } from '@app/testing';
import { generateEvents } from '../../bench/generator';
import { bearer, tokenFor } from '../support/auth';
import { catchUpToHead } from '../support/catch-up';
import { startTestApp, type TestApp } from '../support/test-app';

const NOW = Date.parse('2026-06-01T12:00:00+08:00');
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const BEIJING = { code: 'U-SME-BJ', name: '北京市某区某局', region: '110105' };
const SUPPLIER = creditCode(7301);

interface SmeObligation {
  rule: string;
  status: string;
  deadline: string;
  startedOn: string;
  delayDays: number;
  lateInterest?: string;
}
interface ContractAnswer {
  contractId: string;
  purchasingUnit: { code: string; name: string; region: string | null } | null;
  supplier: { creditCode: string; sme: boolean } | null;
  obligations: SmeObligation[];
  smePayment: { owed: string; paid: string; outstanding: string; lateInterest: string } | null;
  lateInterest: string;
  dataQuality: Array<{ code: string }>;
}

describe('SME payment (SPEC §7, e2e)', () => {
  let t: TestApp;
  let inspector: string;
  let platform: string;
  const contractIds: string[] = [];

  const get = async (path: string, token = inspector, accept = 'application/json') => {
    const res = await fetch(`${t.url}${path}`, { headers: { ...bearer(token), accept } });
    const buf = Buffer.from(await res.arrayBuffer());
    const body: any = res.headers.get('content-type')?.includes('json')
      ? JSON.parse(buf.toString('utf8'))
      : buf;
    return { status: res.status, body, headers: res.headers };
  };
  const post = async (events: Envelope[]) => {
    const res = await fetch(`${t.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer(platform) },
      body: JSON.stringify(events),
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { results: Array<{ status: string; code?: string }> }).results;
  };
  const answers = new Map<string, ContractAnswer[]>();
  async function contractsOn(asOf: string): Promise<ContractAnswer[]> {
    if (!answers.has(asOf)) {
      const all: ContractAnswer[] = [];
      for (const id of contractIds) {
        const r = await get(`/v1/contracts/${encodeURIComponent(id)}?asOf=${asOf}`);
        expect(r.status).toBe(200);
        all.push(r.body);
      }
      answers.set(asOf, all);
    }
    return answers.get(asOf)!;
  }
  const sme = (c: ContractAnswer) => c.obligations.find((o) => o.rule === 'smePayment');

  beforeAll(async () => {
    t = await startTestApp({ clock: { now: () => NOW } });
    inspector = await tokenFor('inspector', { sub: 'sme-inspector' });
    platform = await tokenFor('platform');
    const signed = (id: string, date: string, data: Record<string, unknown>) => ({
      ...ev.signed(id, date, '100000.00'),
      data: { amount: '100000.00', ...data },
    });
    const award = (id: string) =>
      ev.award(id, '2025-03-03', { unit: BEIJING, supplierCode: SUPPLIER, amount: '100000.00' });
    const handMade: Envelope[] = [
      // SPEC §7's example: accepted 2025-05-09, paid in full 2025-06-20
      award('SME-EX'),
      signed('SME-EX', '2025-03-10', {}),
      ev.performed('SME-EX', '2025-05-08'),
      ev.accepted('SME-EX', '2025-05-09'),
      ev.payment('SME-EX', '2025-06-20', 'SME-EX-P1', '100000.00', 'final'),
      // an unlawful 90-day term, counted as 60, never paid
      award('SME-90'),
      signed('SME-90', '2025-03-10', { paymentTermDays: 90, lateInterestRate: '0.0365' }),
      ev.performed('SME-90', '2025-05-08'),
      ev.accepted('SME-90', '2025-05-09'),
    ];
    expect((await post(handMade)).filter((r) => r.status !== 'accepted')).toEqual([]);
    const feed = [
      ...generateEvents({
        contracts: 160,
        seed: 1301,
        violations: { smePayment: 0.5 },
        awardFrom: '2024-01-02',
        awardTo: '2025-06-30',
      }),
    ];
    for (let i = 0; i < feed.length; i += 1000) {
      const results = await post(feed.slice(i, i + 1000));
      expect(results.filter((r) => r.status !== 'accepted')).toEqual([]);
    }
    contractIds.push(...new Set([...handMade, ...feed].map((e) => e.contractId)));
    await catchUpToHead(t.app);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('the worked example of SPEC §7 comes out as written', async () => {
    const r = await get('/v1/contracts/SME-EX?asOf=2025-07-01');
    expect(r.status).toBe(200);
    expect(sme(r.body)).toMatchObject({
      rule: 'smePayment',
      key: 'smePayment',
      startedOn: '2025-05-09',
      deadline: '2025-06-09',
      fulfilledOn: '2025-06-20',
      status: 'late',
      delayDays: 11,
      lateInterest: '550.00',
      policy: 'national',
    });
    expect(r.body.lateInterest).toBe('550.00');
    expect(r.body.smePayment).toEqual({
      paymentCondition: 'acceptance',
      agreedTermDays: null,
      termDays: 30,
      lateInterestRate: null,
      owed: '100000.00',
      paid: '100000.00',
      outstanding: '0.00',
      lateInterest: '550.00',
    });
    // before the deadline nothing is owed; the answer as of a day shows that day's interest
    const early = await get('/v1/contracts/SME-EX?asOf=2025-06-12');
    expect(sme(early.body)).toMatchObject({
      status: 'overdue',
      delayDays: 3,
      lateInterest: '150.00',
    });
  });

  it('a term over 60 days is flagged and counted as 60; the agreed rate accrues', async () => {
    const r = await get('/v1/contracts/SME-90?asOf=2025-12-31');
    expect(r.body.dataQuality.map((f: { code: string }) => f.code)).toContain(
      'PAYMENT_TERM.OVER_LIMIT',
    );
    // 2025-05-09 + 60 = 2025-07-08; unpaid 100,000.00 for 176 days at 3.65% / 360 a day
    expect(sme(r.body)).toMatchObject({
      deadline: '2025-07-08',
      status: 'overdue',
      delayDays: 176,
    });
    const fen = (10_000_000n * 176n * 365n * 2n + 3_600_000n) / (2n * 3_600_000n);
    expect(sme(r.body)!.lateInterest).toBe(fenToYuan(fen));
  });

  it('refuses SME payment terms that are not well formed', async () => {
    const bad = [
      { ...ev.signed('SME-BAD-1', '2025-03-10'), data: { amount: '1.00', paymentTermDays: 0 } },
      { ...ev.signed('SME-BAD-2', '2025-03-10'), data: { amount: '1.00', lateInterestRate: '5%' } },
      {
        ...ev.signed('SME-BAD-3', '2025-03-10'),
        data: { amount: '1.00', paymentCondition: 'pay' },
      },
    ];
    const results = await post(bad);
    expect(results.map((x) => [x.status, x.code])).toEqual([
      ['rejected', 'EVENT.INVALID_PAYLOAD'],
      ['rejected', 'EVENT.INVALID_PAYLOAD'],
      ['rejected', 'EVENT.INVALID_PAYLOAD'],
    ]);
  });

  it('the supplier sees its contracts late interest, and only its own', async () => {
    const supplier = await tokenFor('supplier', { sub: 'sme-s', creditCode: SUPPLIER });
    const r = await get(`/v1/suppliers/${SUPPLIER}/payments?asOf=2025-12-31`, supplier);
    expect(r.status).toBe(200);
    const byId = new Map(r.body.smePayments.map((p: { contractId: string }) => [p.contractId, p]));
    expect(byId.get('SME-EX')).toMatchObject({
      status: 'late',
      dueOn: '2025-06-09',
      owed: '100000.00',
      paid: '100000.00',
      lateInterest: '550.00',
    });
    const mine = (await contractsOn('2025-12-31')).filter(
      (c) => c.supplier?.creditCode === SUPPLIER,
    );
    const sum = mine.reduce((s, c) => s + yuanToFen(c.lateInterest), 0n);
    expect(r.body.lateInterest).toBe(fenToYuan(sum));
    const other = await get(`/v1/suppliers/${creditCode(7302)}/payments`, supplier);
    expect(other.status).toBe(404);
  });

  it('a unit’s smeLateInterest is the sum of its contracts’ late interest, as of any day', async () => {
    for (const asOf of ['2024-09-30', '2025-06-30', '2026-01-15']) {
      const all = await contractsOn(asOf);
      const units = new Map<string, bigint>();
      for (const c of all) {
        if (!c.purchasingUnit) continue;
        const code = c.purchasingUnit.code;
        units.set(code, (units.get(code) ?? 0n) + yuanToFen(c.lateInterest));
      }
      let nonZero = 0;
      for (const [code, fen] of units) {
        const u = await get(`/v1/units/${encodeURIComponent(code)}/compliance?asOf=${asOf}`);
        expect(u.status).toBe(200);
        expect([code, u.body.smeLateInterest]).toEqual([code, fenToYuan(fen)]);
        if (fen > 0n) nonZero++;
      }
      if (asOf !== '2024-09-30') expect(nonZero).toBeGreaterThan(3);
    }
  });

  it('the overview’s smeLateInterest is the sum over the units in view, as of any day and region', async () => {
    // the per-unit summary of final interest, corrected by the obligations not final on the
    // day: contracts paid in full or terminated before, on and after each day
    let nonZero = 0;
    for (const asOf of ['2024-09-30', '2025-06-20', '2025-06-30', '2026-01-15', '2026-06-01']) {
      const all = await contractsOn(asOf);
      for (const region of [undefined, '1101', '50011']) {
        const fen = all
          .filter(
            (c) =>
              c.purchasingUnit &&
              (region === undefined || c.purchasingUnit.region?.startsWith(region)),
          )
          .reduce((sum, c) => sum + yuanToFen(c.lateInterest), 0n);
        const q = region === undefined ? '' : `&region=${region}`;
        const o = await get(`/v1/overview?asOf=${asOf}${q}`);
        expect(o.status).toBe(200);
        expect([asOf, region, o.body.smeLateInterest]).toEqual([asOf, region, fenToYuan(fen)]);
        if (fen > 0n) nonZero++;
      }
    }
    expect(nonZero).toBeGreaterThan(6);
  });

  it('rankings, violations and their CSV count smePayment like every rule', async () => {
    const asOf = '2025-12-31';
    const all = await contractsOn(asOf);
    const byUnit = new Map<string, Record<string, number>>();
    const violations: string[] = [];
    for (const c of all) {
      const o = sme(c);
      if (!o || !c.purchasingUnit) continue;
      const u = byUnit.get(c.purchasingUnit.code) ?? {};
      u[o.status] = (u[o.status] ?? 0) + 1;
      byUnit.set(c.purchasingUnit.code, u);
      if (o.status === 'late' || o.status === 'overdue') violations.push(c.contractId);
    }
    expect(violations.length).toBeGreaterThan(10);
    const ranking = await get(`/v1/units?asOf=${asOf}&rule=smePayment&pageSize=500`);
    expect(ranking.status).toBe(200);
    for (const item of ranking.body.items) {
      const want = byUnit.get(item.unitCode) ?? {};
      const got = item.rules.smePayment ?? {};
      for (const st of ['met', 'late', 'overdue', 'pending', 'exempted', 'cancelled'])
        expect([item.unitCode, st, got[st] ?? 0]).toEqual([item.unitCode, st, want[st] ?? 0]);
    }
    const listed: string[] = [];
    for (let page = 1; ; page++) {
      const v = await get(`/v1/violations?asOf=${asOf}&rule=smePayment&pageSize=500&page=${page}`);
      expect(v.status).toBe(200);
      listed.push(...v.body.items.map((i: { contractId: string }) => i.contractId));
      if (!v.body.hasMore) break;
    }
    expect(listed.sort()).toEqual(violations.sort());
    const csv = await get(`/v1/violations?asOf=${asOf}&rule=smePayment`, inspector, 'text/csv');
    const lines = csv.body.toString('utf8').trim().split('\r\n');
    expect(lines.length - 1).toBe(violations.length);
  });

  it('the annual disclosure agrees with the contract answers on 31 December, in JSON, CSV and .xlsx', async () => {
    for (const year of [2024, 2025]) {
      const all = await contractsOn(`${year}-12-31`);
      const want = new Map<string, { contracts: number; unpaid: bigint }>();
      for (const c of all) {
        if (sme(c)?.status !== 'overdue' || !c.purchasingUnit) continue;
        const w = want.get(c.purchasingUnit.code) ?? { contracts: 0, unpaid: 0n };
        w.contracts++;
        w.unpaid += yuanToFen(c.smePayment!.outstanding);
        want.set(c.purchasingUnit.code, w);
      }
      expect(want.size).toBeGreaterThan(year === 2025 ? 4 : 1);
      const r = await get(`/v1/reports/sme-overdue?year=${year}`);
      expect(r.status).toBe(200);
      expect(r.body.asOf).toBe(`${year}-12-31`);
      const got = new Map(
        r.body.items.map((i: { unitCode: string; contracts: number; unpaid: string }) => [
          i.unitCode,
          { contracts: i.contracts, unpaid: yuanToFen(i.unpaid) },
        ]),
      );
      expect(got).toEqual(want);
      const total = [...want.values()].reduce(
        (s, w) => ({ contracts: s.contracts + w.contracts, unpaid: s.unpaid + w.unpaid }),
        { contracts: 0, unpaid: 0n },
      );
      expect(r.body.total).toEqual({
        units: want.size,
        contracts: total.contracts,
        unpaid: fenToYuan(total.unpaid),
      });
      const rows = r.body.items.map((i: Record<string, unknown>) => [
        i.unitCode,
        i.unitName,
        i.region,
        String(i.contracts),
        i.unpaid,
      ]);
      // CSV: the same rows, Chinese headers
      const csv = await get(`/v1/reports/sme-overdue?year=${year}`, inspector, 'text/csv');
      expect(csv.headers.get('content-type')).toContain('text/csv');
      const lines = csv.body
        .toString('utf8')
        .replace(/^\uFEFF/, '')
        .trim()
        .split('\r\n');
      expect(lines[0]).toContain('逾期未支付金额');
      expect(lines.slice(1).map((l: string) => l.split(','))).toEqual(rows);
      // Excel: a real workbook, read back with exceljs, the same rows
      const x = await get(`/v1/reports/sme-overdue?year=${year}`, inspector, XLSX);
      expect(x.headers.get('content-type')).toBe(XLSX);
      const wb = new ExcelJS.Workbook();
      await wb.xlsx.load(x.body);
      const ws = wb.worksheets[0];
      const cells: string[][] = [];
      ws.eachRow((row) => cells.push((row.values as unknown[]).slice(1).map((v) => String(v))));
      expect(cells[0][4]).toContain('逾期未支付金额');
      expect(cells.slice(1)).toEqual(rows);
    }
    // a region filter and a region-limited inspector see only those units
    const fuling = await tokenFor('inspector', { sub: 'sme-fl', regions: ['500102'] });
    const mine = await get('/v1/reports/sme-overdue?year=2025', fuling);
    const filtered = await get('/v1/reports/sme-overdue?year=2025&region=500102');
    expect(mine.body.items.length).toBeGreaterThan(0);
    expect(mine.body).toEqual(filtered.body);
    for (const i of mine.body.items) expect(i.region.startsWith('500102')).toBe(true);
  });

  it('payment performance agrees with the invoices the suppliers see', async () => {
    const all = await contractsOn('2026-06-01');
    const suppliers = [...new Set(all.map((c) => c.supplier?.creditCode).filter((x) => x))];
    type Inv = {
      contractId: string;
      amount: string;
      receivedOn: string;
      paidOn: string | null;
      dueOn: string | null;
    };
    const invoices: Inv[] = [];
    for (const s of suppliers) {
      const r = await get(`/v1/suppliers/${s}/payments?asOf=2026-06-01`);
      invoices.push(...r.body.invoices);
    }
    const byContract = new Map(all.map((c) => [c.contractId, c]));
    const [from, to] = ['2025-01-01', '2025-12-31'];
    const units = [
      ...new Set(all.map((c) => c.purchasingUnit?.code).filter((x): x is string => !!x)),
    ];
    let checked = 0;
    for (const unit of units) {
      const paid = invoices.filter((i) => {
        const c = byContract.get(i.contractId)!;
        return (
          c.purchasingUnit?.code === unit && i.paidOn !== null && i.paidOn >= from && i.paidOn <= to
        );
      });
      const days = (a: string, b: string) => (Date.parse(b) - Date.parse(a)) / 86_400_000;
      const d = paid.map((i) => days(i.receivedOn, i.paidOn!));
      const withDeadline = paid
        .map((i) => ({
          i,
          deadline: i.dueOn ?? sme(byContract.get(i.contractId)!)?.deadline ?? null,
        }))
        .filter((x) => x.deadline !== null);
      const amount = withDeadline.reduce((s, x) => s + yuanToFen(x.i.amount), 0n);
      const weighted = (f: (delay: number) => number) => {
        if (amount === 0n) return null;
        const s = withDeadline.reduce(
          (acc, x) => acc + yuanToFen(x.i.amount) * BigInt(f(days(x.deadline!, x.i.paidOn!))),
          0n,
        );
        const q = 200n * s + amount;
        const den = 2n * amount;
        const fl = q / den - (q % den !== 0n && q < 0n ? 1n : 0n);
        return Number(fl) / 100;
      };
      const r = await get(
        `/v1/units/${encodeURIComponent(unit)}/payment-performance?from=${from}&to=${to}`,
      );
      if (r.status !== 200) console.log(JSON.stringify(r.body));
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({
        unitCode: unit,
        from,
        to,
        invoicesPaid: paid.length,
        amountPaid: fenToYuan(paid.reduce((s, i) => s + yuanToFen(i.amount), 0n)),
        meanDaysToPay: meanHalfUp(
          d.reduce((s, x) => s + x, 0),
          d.length,
        ),
        paidWithin30Days: rateDown(d.filter((x) => x <= 30).length, d.length),
        paidIn31To60Days: rateDown(d.filter((x) => x > 30 && x <= 60).length, d.length),
        paidAfter60Days: rateDown(d.filter((x) => x > 60).length, d.length),
        withDeadline: withDeadline.length,
        paidLateShare: rateDown(
          withDeadline.filter((x) => x.i.paidOn! > x.deadline!).length,
          withDeadline.length,
        ),
        weightedMeanDelayDays: weighted((x) => Math.max(0, x)),
        timelinessIndexDays: weighted((x) => x),
      });
      if (paid.length > 0) checked++;
    }
    expect(checked).toBeGreaterThan(5);
    const bad = await get(
      `/v1/units/${units[0]}/payment-performance?from=2025-12-31&to=2025-01-01`,
    );
    expect([bad.status, bad.body.code]).toEqual([400, 'REQUEST.VALIDATION_FAILED']);
    const none = await get(
      '/v1/units/NO-SUCH-UNIT/payment-performance?from=2025-01-01&to=2025-12-31',
    );
    expect([none.status, none.body.code]).toEqual([404, 'UNIT.NOT_FOUND']);
    const noYear = await get('/v1/reports/sme-overdue');
    expect([noYear.status, noYear.body.code]).toEqual([400, 'REQUEST.VALIDATION_FAILED']);
  });
});
