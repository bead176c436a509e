import { WRITE_POOL } from '@app/event-store';
import { ReadPool } from '@app/platform';
import { catchUpToHead } from '../support/catch-up';
import { creditCode, ev, type Envelope } from '@app/testing';
import type { Pool } from 'pg';
import { startTestApp, type TestApp } from '../support/test-app';
import { authFor, bearer, tokenFor } from '../support/auth';

/**
 * Query-side defects of issue #10, each pinned through HTTP on the booted application.
 */
describe('query endpoints: issue #10 defects (e2e)', () => {
  let t: TestApp;
  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${t.url}${path}`, {
      headers: { ...authFor('GET', path), ...headers },
    });
    const text = await res.text();
    const body: any = res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text;
    return { status: res.status, body };
  };
  const send = async (events: Envelope[]) => {
    const res = await fetch(`${t.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...authFor('POST', '/v1/events') },
      body: JSON.stringify(events),
    });
    const body: any = await res.json();
    expect(res.status).toBe(200);
    expect(body.results.filter((x: { status: string }) => x.status !== 'accepted')).toEqual([]);
    await catchUpToHead(t.app);
  };

  // "today" is 2027-06-01 in Asia/Shanghai
  const NOW = Date.parse('2027-06-01T12:00:00+08:00');

  beforeAll(async () => {
    t = await startTestApp({ clock: { now: () => NOW } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('GET /v1/contracts/{id}/events refuses an unknown query parameter like every endpoint', async () => {
    const C = 'QD-EVENTS-1';
    await send([ev.award(C, '2021-09-13')]);
    expect((await get(`/v1/contracts/${C}/events`)).status).toBe(200);
    for (const q of ['foo=bar', 'foo=bar&baz=1']) {
      const r = await get(`/v1/contracts/${C}/events?${q}`);
      expect([q, r.status, r.body.code]).toEqual([q, 400, 'REQUEST.VALIDATION_FAILED']);
    }
  });

  it('shows exact rates: 57 met of 100 is 0.57 (not 0.5699), a mean of 41/40 days is 1.03', async () => {
    const unit = (code: string) => ({ code, name: `单位 ${code}`, region: '500199' });
    const events: Envelope[] = [];
    // U-RATE-57: 100 signing obligations, 57 signed in time, 43 never signed (overdue)
    for (let i = 0; i < 100; i++) {
      const C = `QD-RATE-57-${i}`;
      events.push(ev.award(C, '2021-03-01', { unit: unit('U-RATE-57') }));
      if (i < 57) events.push(ev.signed(C, '2021-03-10'));
    }
    // U-RATE-MEAN: 40 late signings (deadline 2021-03-22), 39 one day late and one two days
    for (let i = 0; i < 40; i++) {
      const C = `QD-RATE-MEAN-${i}`;
      events.push(ev.award(C, '2021-03-01', { unit: unit('U-RATE-MEAN') }));
      events.push(ev.signed(C, i === 0 ? '2021-03-24' : '2021-03-23'));
    }
    await send(events);

    const ranking = await get('/v1/units?rule=signing&region=500199&asOf=2021-06-01');
    expect(ranking.status).toBe(200);
    const a = ranking.body.items.find((u: { unitCode: string }) => u.unitCode === 'U-RATE-57');
    expect(a.counts).toMatchObject({ met: 57, overdue: 43, late: 0 });
    expect(a.onTimeRate).toBe(0.57);
    expect(a.rules.signing.onTimeRate).toBe(0.57);

    const compliance = await get('/v1/units/U-RATE-57/compliance?asOf=2021-06-01');
    const signing = compliance.body.rules.find((r: { rule: string }) => r.rule === 'signing');
    expect(signing.counts).toMatchObject({ met: 57, overdue: 43 });
    expect(signing.onTimeRate).toBe(0.57);

    const mean = await get('/v1/units/U-RATE-MEAN/compliance?asOf=2021-06-01');
    const late = mean.body.rules.find((r: { rule: string }) => r.rule === 'signing');
    expect(late.counts).toMatchObject({ late: 40 });
    expect([late.meanDelayDays, late.medianDelayDays]).toEqual([1.03, 1]);
  });

  it('a region-limited inspector sees a unit ranking built only from its regions (name, region, contracts)', async () => {
    // one unit with contracts in two regions; the newest award is in the other region
    const inside = { code: 'U-SCOPE-1', name: '涪陵区某单位', region: '500102' };
    const outside = { code: 'U-SCOPE-1', name: '南川区某单位', region: '500119' };
    await send([
      ev.award('QD-SCOPE-IN-1', '2021-04-01', { unit: inside }),
      ev.award('QD-SCOPE-IN-2', '2021-04-02', { unit: inside }),
      ev.award('QD-SCOPE-OUT-1', '2021-04-05', { unit: outside }),
      ev.award('QD-SCOPE-OUT-2', '2021-04-06', { unit: outside }),
      ev.award('QD-SCOPE-OUT-3', '2021-04-07', { unit: outside }),
    ]);
    const unitOf = (body: { items: Array<{ unitCode: string }> }) =>
      body.items.find((u) => u.unitCode === 'U-SCOPE-1') as any;
    const path = '/v1/units?sort=unitCode&pageSize=500&asOf=2021-06-01';

    const all = unitOf((await get(path)).body);
    expect([all.unitName, all.region, all.contracts, all.counts.overdue]).toEqual([
      outside.name,
      outside.region,
      5,
      5,
    ]);

    const limited = bearer(await tokenFor('inspector', { regions: ['500102'] }));
    const r = await get(path, limited);
    expect(r.status).toBe(200);
    const mine = unitOf(r.body);
    expect([mine.unitName, mine.region, mine.contracts, mine.counts.overdue]).toEqual([
      inside.name,
      inside.region,
      2,
      2,
    ]);
    // the region filter narrows the same way
    const filtered = unitOf((await get(`${path}&region=500102`)).body);
    expect([filtered.unitName, filtered.region, filtered.contracts]).toEqual([
      inside.name,
      inside.region,
      2,
    ]);
    // and unit compliance agrees
    const c = await get('/v1/units/U-SCOPE-1/compliance?asOf=2021-06-01', limited);
    expect([c.body.unitName, c.body.region, c.body.contracts]).toEqual([
      inside.name,
      inside.region,
      2,
    ]);
  });

  describe('as of a date, nothing dated later shows', () => {
    const unit = { code: 'U-ASOF', name: '涪陵区某局', region: '500102' };
    const SUP = creditCode(7601);
    const SUP_LATE = creditCode(7602);
    const SUP_INV = creditCode(7603);
    const codesOf = (b: { dataQuality: Array<{ code: string }> }) =>
      b.dataQuality.map((d) => d.code);

    beforeAll(async () => {
      await send([
        // signed in September, a prepayment without invoice (flagged then), an invoice beyond
        // the contract amount in November (flagged then), terminated in December
        ev.award('QD-ASOF-1', '2021-09-01', {
          unit,
          supplierCode: SUP,
          size: 'small',
          amount: '1000.00',
        }),
        ev.signed('QD-ASOF-1', '2021-09-10', '1000.00', '0.50'),
        ev.payment('QD-ASOF-1', '2021-09-15', 'PAY-1', '200.00', 'prepayment'),
        ev.invoice('QD-ASOF-1', '2021-11-01', 'INV-1', '2000.00'),
        ev.terminated('QD-ASOF-1', '2021-12-01'),
        // signed and prepaid 30% before the award names an SME supplier (50%)
        ev.signed('QD-ASOF-2', '2021-09-01', '1000.00'),
        ev.payment('QD-ASOF-2', '2021-09-02', 'PAY-2', '300.00', 'prepayment'),
        ev.award('QD-ASOF-2', '2021-09-20', {
          unit,
          supplierCode: SUP_LATE,
          size: 'small',
          amount: '1000.00',
        }),
        // an invoice received before the award that names its supplier
        ev.invoice('QD-ASOF-3', '2021-09-05', 'INV-A', '100.00'),
        ev.award('QD-ASOF-3', '2021-09-08', { unit, supplierCode: SUP_INV, amount: '1000.00' }),
        ev.signed('QD-ASOF-3', '2021-09-09', '1000.00'),
      ]);
    });

    it('contract detail: the stage, flags, amounts and prepayment of that day', async () => {
      const sept = (await get('/v1/contracts/QD-ASOF-1?asOf=2021-09-30')).body;
      expect(sept.stage).toBe('signed');
      expect(codesOf(sept)).toEqual(['PAYMENT.WITHOUT_INVOICE']);
      expect(sept.prepayment).toMatchObject({
        status: 'pending',
        ratio: '0.2000',
        prepaid: '200.00',
      });
      expect(sept.obligations.map((o: { key: string }) => o.key).sort()).toEqual([
        'announcement',
        'filing',
        'signing',
      ]);

      const dec = (await get('/v1/contracts/QD-ASOF-1?asOf=2021-12-31')).body;
      expect(dec.stage).toBe('terminated');
      expect(codesOf(dec)).toEqual(['PAYMENT.WITHOUT_INVOICE', 'INVOICE.EXCEEDS_CONTRACT']);
      expect(dec.prepayment).toMatchObject({ status: 'below', threshold: '0.50' });

      const before = await get('/v1/contracts/QD-ASOF-1?asOf=2021-08-31');
      expect(before.status).toBe(200);
      expect(before.body).toMatchObject({
        stage: 'unknown',
        purchasingUnit: null,
        supplier: null,
        project: null,
        amount: null,
        obligations: [],
        prepayment: null,
        dataQuality: [],
      });
    });

    it('contract detail: a supplier named by a later award is unknown until then (30% target)', async () => {
      const early = (await get('/v1/contracts/QD-ASOF-2?asOf=2021-09-10')).body;
      expect(early).toMatchObject({
        stage: 'signed',
        supplier: null,
        purchasingUnit: null,
        amount: '1000.00',
      });
      expect(early.prepayment).toMatchObject({
        status: 'met',
        threshold: '0.30',
        required: '300.00',
        ratio: '0.3000',
      });
      expect(codesOf(early)).toEqual([
        'CONTRACT.UNKNOWN',
        'PAYMENT.WITHOUT_INVOICE',
        'CONTRACT.SUPPLIER_UNKNOWN',
      ]);
      const later = (await get('/v1/contracts/QD-ASOF-2?asOf=2021-09-30')).body;
      expect(later.supplier).toMatchObject({ creditCode: SUP_LATE, sme: true });
      expect(later.prepayment).toMatchObject({
        status: 'pending',
        threshold: '0.50',
        required: '500.00',
      });
      expect(codesOf(later)).toEqual(['CONTRACT.SIGNED_BEFORE_AWARD', 'PAYMENT.WITHOUT_INVOICE']);
    });

    it('units: the contracts of a unit on that day are those awarded by then', async () => {
      // QD-ASOF-1 awarded 09-01, QD-ASOF-3 09-08, QD-ASOF-2 only on 09-20
      const ranked = (await get('/v1/units?sort=unitCode&pageSize=500&asOf=2021-09-10')).body;
      const u = ranked.items.find((x: { unitCode: string }) => x.unitCode === unit.code);
      expect([u.unitName, u.contracts]).toEqual([unit.name, 2]);
      const c = (await get(`/v1/units/${unit.code}/compliance?asOf=2021-09-10`)).body;
      expect(c.contracts).toBe(2);
      expect(c.prepayment.sme).toMatchObject({ contracts: 2, pending: 2 });
      const later = (await get(`/v1/units/${unit.code}/compliance?asOf=2021-09-30`)).body;
      expect([later.contracts, later.prepayment.sme.contracts]).toEqual([3, 3]);
      // before any award the unit is known (not 404) but has no contract yet
      const before = await get(`/v1/units/${unit.code}/compliance?asOf=2021-08-01`);
      expect(before.status).toBe(200);
      expect([before.body.contracts, before.body.unitName]).toEqual([0, null]);
    });

    it('supplier payments: only what the facts up to that day say', async () => {
      const payments = async (sup: string, asOf: string) => {
        const r = await get(`/v1/suppliers/${sup}/payments?asOf=${asOf}`);
        expect(r.status).toBe(200);
        return r.body;
      };
      // before its first award the supplier has no contract: no name, nothing listed
      expect(await payments(SUP, '2021-08-31')).toMatchObject({
        supplierName: null,
        invoices: [],
        prepayments: [],
      });
      expect((await payments(SUP, '2021-09-30')).prepayments).toEqual([
        expect.objectContaining({ contractId: 'QD-ASOF-1', status: 'pending', received: '200.00' }),
      ]);
      // the SME threshold counts from the award that made the supplier known
      expect(await payments(SUP_LATE, '2021-09-10')).toMatchObject({
        invoices: [],
        prepayments: [],
      });
      expect((await payments(SUP_LATE, '2021-09-30')).prepayments).toEqual([
        expect.objectContaining({ contractId: 'QD-ASOF-2', threshold: '0.50', entitled: '500.00' }),
      ]);
      // an invoice received before the award is the supplier's from the award on
      expect((await payments(SUP_INV, '2021-09-06')).invoices).toEqual([]);
      expect((await payments(SUP_INV, '2021-09-08')).invoices).toEqual([
        expect.objectContaining({ invoiceNo: 'INV-A', unitCode: unit.code, unitName: unit.name }),
      ]);
    });
  });

  describe('idle_in_transaction_session_timeout on the service connections', () => {
    const show = async (pool: Pool) =>
      (
        await pool.query<{ idle_in_transaction_session_timeout: string }>(
          'SHOW idle_in_transaction_session_timeout',
        )
      ).rows[0].idle_in_transaction_session_timeout;

    it('is 60 s by default on the write pool and the read pool', async () => {
      expect(await show(t.app.get<Pool>(WRITE_POOL))).toBe('1min');
      expect(await show(t.app.get(ReadPool).pool)).toBe('1min');
    });

    it('follows DB_IDLE_IN_TRANSACTION_TIMEOUT_MS, and a session left idle in a transaction is ended', async () => {
      const other = await startTestApp({ env: { DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: '1500' } });
      try {
        const pool = other.app.get<Pool>(WRITE_POOL);
        expect(await show(pool)).toBe('1500ms');
        expect(await show(other.app.get(ReadPool).pool)).toBe('1500ms');
        const c = await pool.connect();
        const ended = new Promise<Error>((resolve) => c.once('error', resolve));
        try {
          await c.query('BEGIN');
          await c.query('SELECT 1');
          const err = await Promise.race([
            ended,
            new Promise<null>((r) => setTimeout(() => r(null), 10_000)),
          ]);
          expect(err?.message).toMatch(/idle-in-transaction timeout/);
        } finally {
          c.release(true);
        }
      } finally {
        await other.close();
      }
    });
  });
});
