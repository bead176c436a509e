import { catchUpToHead } from '../support/catch-up';
import { creditCode, ev, type Envelope } from '@app/testing';
import { get as httpGet } from 'node:http';
import { Client } from 'pg';
import { startTestApp, type TestApp } from '../support/test-app';
import { auth, authFor } from '../support/auth';

/**
 * The compliance engine through HTTP: contract detail as of a date (SPEC §4 shape), the
 * aggregate endpoints agreeing with it, order independence, exemptions, calendar uploads,
 * and rebuild = incremental.
 */
describe('compliance API (e2e)', () => {
  let t: TestApp;
  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${t.url}${path}`, {
      headers: { ...authFor('GET', path), ...headers },
    });
    const text = await res.text();
    const body: any = res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text;
    return { status: res.status, body, headers: res.headers };
  };
  const post = async (path: string, payload: unknown) => {
    const res = await fetch(`${t.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...authFor('POST', path) },
      body: JSON.stringify(payload),
    });
    const body: any = await res.json();
    return { status: res.status, body };
  };
  const send = async (events: Envelope[]) => {
    const r = await post('/v1/events', events);
    expect(r.status).toBe(200);
    expect(r.body.results.filter((x: { status: string }) => x.status !== 'accepted')).toEqual([]);
    await catchUpToHead(t.app);
  };
  const contract = (id: string, asOf: string) => get(`/v1/contracts/${id}?asOf=${asOf}`);
  const byKey = (body: { obligations: Array<{ key: string }> }) =>
    Object.fromEntries(body.obligations.map((o) => [o.key, o])) as Record<
      string,
      Record<string, unknown>
    >;

  // A fixed clock: "today" is 2027-06-01 in Asia/Shanghai, so 2026-12 events are in the past.
  const NOW = Date.parse('2027-06-01T12:00:00+08:00');
  const TODAY = '2027-06-01';

  beforeAll(async () => {
    t = await startTestApp({ clock: { now: () => NOW } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers the SPEC §4 example shape with the worked deadlines', async () => {
    const C = 'CQ-FL-2021-000123';
    await send([
      ev.award(C, '2021-09-13', { size: 'small', supplierCode: creditCode(123) }),
      ev.signed(C, '2021-10-08', '1250000.00', '0.30'),
      ev.invoice(C, '2021-09-28', 'INV-001', '300000.00', 'final'),
      ev.performed(C, '2021-09-20'),
      ev.accepted(C, '2021-09-24'),
      ev.invoice(C, '2021-10-08', 'PRE-1', '500000.00', 'prepayment'),
      ev.payment(C, '2021-10-09', 'PAY-PRE', '500000.00', 'prepayment', 'PRE-1'),
    ]);
    const r = await contract(C, '2021-10-20');
    expect(r.status).toBe(200);
    const b = r.body;
    expect(b).toMatchObject({
      contractId: C,
      asOf: '2021-10-20',
      purchasingUnit: { code: 'U-500102-001', region: '500102' },
      supplier: { creditCode: creditCode(123), size: 'small', sme: true },
      amount: '1250000.00',
    });
    const o = byKey(b);
    expect(o.signing).toMatchObject({
      rule: 'signing',
      startedOn: '2021-09-13',
      deadline: '2021-10-08',
      fulfilledOn: '2021-10-08',
      status: 'met',
      delayDays: 0,
      delayWorkingDays: null,
      provisional: false,
    });
    // final invoice received 09-28 after a passed acceptance: 5 working days → 10-11 (National Day)
    expect(o['payment:INV-001']).toMatchObject({
      rule: 'payment',
      startedOn: '2021-09-28',
      deadline: '2021-10-11',
      fulfilledOn: null,
      status: 'overdue',
      delayDays: 9,
      delayWorkingDays: 7,
      provisional: false,
    });
    // performance was completed before the prepayment: the SME target (50%) stays below
    expect(b.prepayment).toMatchObject({
      status: 'below',
      threshold: '0.50',
      ratio: '0.4000',
      prepaid: '500000.00',
      contractAmount: '1250000.00',
    });
    expect(Object.keys(b)).toEqual(
      expect.arrayContaining([
        'contractId',
        'asOf',
        'purchasingUnit',
        'supplier',
        'amount',
        'obligations',
        'prepayment',
        'dataQuality',
      ]),
    );
    for (const d of b.dataQuality)
      expect(d).toEqual(
        expect.objectContaining({ code: expect.any(String), message: expect.any(String) }),
      );
  });

  it('extends a deadline that lands on a holiday, not one that lands on a make-up Saturday', async () => {
    // award 2021-09-13 + 20 = 2021-10-03 (National Day) → 2021-10-08
    await send([ev.award('HOL-1', '2021-09-13'), ev.award('MAKEUP-1', '2021-09-06')]);
    // award 2021-09-06 + 20 = 2021-09-26, a make-up working Sunday: not extended
    expect(byKey((await contract('HOL-1', '2021-09-20')).body).signing).toMatchObject({
      deadline: '2021-10-08',
      status: 'pending',
      daysLeft: 18,
    });
    expect(byKey((await contract('MAKEUP-1', '2021-09-20')).body).signing).toMatchObject({
      deadline: '2021-09-26',
      status: 'pending',
    });
    expect(byKey((await contract('MAKEUP-1', '2021-09-27')).body).signing).toMatchObject({
      status: 'overdue',
      delayDays: 1,
      delayWorkingDays: null,
    });
  });

  it('counts business dates in Asia/Shanghai: 23:30Z is the next day', async () => {
    const C = 'TZ-1';
    await send([ev.award(C, '2021-09-10'), ev.signed(C, '2021-09-30T23:30:00Z')]);
    const o = byKey((await contract(C, '2021-10-20')).body);
    expect(o.announcement.startedOn).toBe('2021-10-01');
    // 2 working days after 10-01 in the National Day week: 10-08 (Fri), 10-09 (make-up Sat)
    expect(o.announcement.deadline).toBe('2021-10-09');
    expect(
      (await contract(C, '2021-09-30')).body.obligations.map((x: { key: string }) => x.key),
    ).toEqual(['signing']);
  });

  it('gives the same answer whatever order the events arrive in', async () => {
    const history = (id: string) => [
      ev.award(id, '2021-03-01', { size: 'medium' }),
      ev.signed(id, '2021-03-25', '1000000.00'),
      ev.announced(id, '2021-03-29'),
      ev.filed(id, '2021-04-09'),
      ev.invoice(id, '2021-04-12', 'INV-1', '300000.00', 'prepayment'),
      ev.payment(id, '2021-04-13', 'PAY-1', '200000.00', 'prepayment', 'INV-1'),
      ev.payment(id, '2021-04-20', 'PAY-2', '100000.00', 'prepayment'),
      ev.performed(id, '2021-06-01'),
      ev.accepted(id, '2021-06-04', false),
      ev.accepted(id, '2021-06-15', true),
      ev.invoice(id, '2021-06-16', 'INV-2', '700000.00', 'final'),
      ev.payment(id, '2021-06-30', 'PAY-3', '700000.00', 'final', 'INV-2'),
    ];
    const orders = [
      (xs: Envelope[]) => xs,
      (xs: Envelope[]) => [...xs].reverse(),
      (xs: Envelope[]) => [...xs].sort((a, b) => a.eventId.localeCompare(b.eventId)),
    ];
    const answers: unknown[] = [];
    for (const [i, order] of orders.entries()) {
      const id = `ORDER-${i}`;
      const events = order(history(id));
      // one request per event, so arrival order is really the order given
      for (const e of events) expect((await post('/v1/events', e)).status).toBe(202);
      await catchUpToHead(t.app);
      for (const asOf of ['2021-04-01', '2021-04-20', '2021-06-20', '2021-12-31']) {
        const b = (await contract(id, asOf)).body;
        answers.push(
          JSON.stringify({
            ...b,
            contractId: 'X',
            dataQuality: b.dataQuality.map((d: { code: string }) => d.code),
          }).replaceAll(id, 'X'),
        );
      }
    }
    expect(answers.slice(4)).toEqual([...answers.slice(0, 4), ...answers.slice(0, 4)]);
    const final = byKey((await contract('ORDER-0', '2021-12-31')).body);
    expect(final.acceptance).toMatchObject({ status: 'late', fulfilledOn: '2021-06-15' });
    expect(final['payment:INV-2']).toMatchObject({ status: 'late' });
  });

  it('keeps the unit, violation, supplier and CSV endpoints consistent with contract answers', async () => {
    const unit = { code: 'U-AGREE', name: '一致性测试单位', region: '500103' };
    const sup = creditCode(777);
    const ids = ['AG-1', 'AG-2', 'AG-3'];
    await send([
      ev.award('AG-1', '2021-05-06', { unit, supplierCode: sup, size: 'large' }),
      ev.signed('AG-1', '2021-06-01'), // 26 days: late signing
      ev.invoice('AG-1', '2021-06-10', 'A1', '1000.00', 'progress'),
      ev.payment('AG-1', '2021-06-11', 'P1', '400.00', 'progress'),
      ev.award('AG-2', '2021-05-06', { unit, supplierCode: sup, size: 'micro' }),
      ev.signed('AG-2', '2021-05-10'),
      ev.announced('AG-2', '2021-05-11'),
      ev.filed('AG-2', '2021-05-12'),
      ev.award('AG-3', '2021-07-01', { unit, supplierCode: creditCode(778), size: 'small' }),
    ]);
    const asOf = '2021-08-01';
    const details = await Promise.all(ids.map(async (id) => (await contract(id, asOf)).body));
    const all = details.flatMap((d) =>
      d.obligations.map((o: Record<string, unknown>) => ({ ...o, contractId: d.contractId })),
    );
    const count = (rule: string, status: string) =>
      all.filter((o) => o.rule === rule && o.status === status).length;

    const comp = (await get(`/v1/units/U-AGREE/compliance?asOf=${asOf}`)).body;
    for (const r of comp.rules) {
      for (const s of ['met', 'late', 'overdue', 'pending', 'exempted', 'cancelled'])
        expect([r.rule, s, r.counts[s]]).toEqual([r.rule, s, count(r.rule, s)]);
    }
    expect(comp.prepayment.sme.contracts + comp.prepayment.nonSme.contracts).toBe(2);
    // mean and median delays over the late and overdue obligations of the contract answers
    const stats = (xs: number[]) => {
      if (xs.length === 0) return [null, null];
      const s = [...xs].sort((a, b) => a - b);
      const m = s.length >> 1;
      return [
        Math.round((xs.reduce((a, b) => a + b, 0) / xs.length) * 100) / 100,
        s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2,
      ];
    };
    let delayed = 0;
    for (const r of comp.rules) {
      const late = all.filter(
        (o) => o.rule === r.rule && (o.status === 'late' || o.status === 'overdue'),
      );
      delayed += late.length;
      expect([r.rule, r.meanDelayDays, r.medianDelayDays]).toEqual([
        r.rule,
        ...stats(late.map((o) => o.delayDays as number)),
      ]);
      expect([r.rule, r.meanDelayWorkingDays, r.medianDelayWorkingDays]).toEqual([
        r.rule,
        ...(r.rule === 'signing'
          ? [null, null]
          : stats(late.map((o) => o.delayWorkingDays as number))),
      ]);
    }
    expect(delayed).toBeGreaterThanOrEqual(3);

    const units = (await get(`/v1/units?asOf=${asOf}&region=500103`)).body;
    const row = units.items.find((u: { unitCode: string }) => u.unitCode === 'U-AGREE');
    expect(row.counts.late + row.counts.overdue).toBe(
      all.filter((o) => o.status === 'late' || o.status === 'overdue').length,
    );
    expect(row.violations).toBe(row.counts.late + row.counts.overdue);
    const due = row.counts.met + row.counts.late + row.counts.overdue;
    expect(row.onTimeRate).toBeCloseTo(row.counts.met / due, 4);

    const viol = (await get(`/v1/violations?unit=U-AGREE&asOf=${asOf}&pageSize=500`)).body;
    const expected = all.filter((o) => o.status === 'late' || o.status === 'overdue');
    expect(
      viol.items.map((v: { contractId: string; key: string }) => `${v.contractId}/${v.key}`).sort(),
    ).toEqual(expected.map((o) => `${o.contractId}/${o.key}`).sort());
    for (const v of viol.items) {
      const o = expected.find((x) => x.contractId === v.contractId && x.key === v.key)!;
      expect([v.status, v.delayDays, v.delayWorkingDays, v.deadline]).toEqual([
        o.status,
        o.delayDays,
        o.delayWorkingDays,
        o.deadline,
      ]);
    }
    const deadlines = viol.items.map((v: { deadline: string }) => v.deadline);
    expect([...deadlines].sort().reverse()).toEqual(deadlines);

    const csv = await fetch(`${t.url}/v1/violations?unit=U-AGREE&asOf=${asOf}`, {
      headers: { accept: 'text/csv', ...auth('inspector') },
    });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/text\/csv; charset=utf-8/);
    const bytes = Buffer.from(await csv.arrayBuffer());
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]); // UTF-8 BOM: Excel opens Chinese intact
    const text = bytes.subarray(3).toString('utf8');
    const lines = text.trim().split('\r\n');
    expect(lines[0]).toContain('采购单位');
    expect(lines).toHaveLength(expected.length + 1);
    expect(text).toContain('一致性测试单位');

    const pay = (await get(`/v1/suppliers/${sup}/payments?asOf=${asOf}`)).body;
    const inv = pay.invoices.find((i: { invoiceNo: string }) => i.invoiceNo === 'A1');
    const ob = all.find((o) => o.key === 'payment:A1')!;
    expect(inv).toMatchObject({
      contractId: 'AG-1',
      amount: '1000.00',
      paid: '400.00',
      outstanding: '600.00',
      dueOn: ob.deadline,
      status: ob.status,
      delayDays: ob.delayDays,
    });
    expect(pay.prepayments.map((p: { contractId: string }) => p.contractId).sort()).toEqual([
      'AG-1',
      'AG-2',
    ]);
    const p2 = pay.prepayments.find((p: { contractId: string }) => p.contractId === 'AG-2');
    expect(p2).toMatchObject({ threshold: '0.50', entitled: '625000.00', received: '0.00' });
  });

  it('records an exemption through the command side and reports it', async () => {
    await send([ev.award('EX-1', '2021-01-04')]);
    expect(byKey((await contract('EX-1', '2021-03-01')).body).signing.status).toBe('overdue');
    const r = await post('/v1/contracts/EX-1/exemptions', {
      rule: 'signing',
      reason: '疫情防控期间暂停',
    });
    expect(r.status).toBe(201);
    await catchUpToHead(t.app);
    expect(byKey((await contract('EX-1', TODAY)).body).signing).toMatchObject({
      status: 'exempted',
      exemptedOn: TODAY,
    });
    // asOf defaults to today
    expect(byKey((await get('/v1/contracts/EX-1')).body).signing.status).toBe('exempted');
    // history before the exemption is unchanged
    expect(byKey((await contract('EX-1', '2021-03-01')).body).signing.status).toBe('overdue');
    expect(
      (await post('/v1/contracts/EX-1/exemptions', { rule: 'signing', reason: 'again' })).status,
    ).toBe(409);
    expect(
      (await post('/v1/contracts/EX-1/exemptions', { rule: 'filing', reason: 'x' })).body.code,
    ).toBe('OBLIGATION.NOT_FOUND');
    expect(
      (await post('/v1/contracts/EX-1/exemptions', { rule: 'signing', reason: 'x', extra: 1 }))
        .status,
    ).toBe(400);
  });

  it('marks deadlines in a year without an official calendar provisional, and recomputes on upload', async () => {
    // 2027 is not in the package data: weekends only, provisional
    await send([
      ev.award('PROV-1', '2026-12-29T10:00:00+08:00'),
      ev.signed('PROV-1', '2026-12-30T10:00:00+08:00'),
    ]);
    const before = byKey((await contract('PROV-1', '2027-01-02')).body);
    // weekends only: 12-31, 01-01, 01-04 … 01-08 is the 7th working day
    expect(before.filing).toMatchObject({ deadline: '2027-01-08', provisional: true });
    const put = await fetch(`${t.url}/v1/admin/calendar/2027`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', ...auth('admin') },
      body: JSON.stringify({
        restDays: ['2027-01-01', '2027-01-04', '2027-01-05'],
        workingDays: ['2027-01-09'],
        source: 'test notice',
      }),
    });
    expect(put.status).toBe(200);
    await catchUpToHead(t.app);
    const after = byKey((await contract('PROV-1', '2027-01-02')).body);
    // 12-31 (1), 01-06 (2), 01-07 (3), 01-08 (4), 01-09 make-up Sat (5), 01-11 (6), 01-12 (7)
    expect(after.filing).toMatchObject({ deadline: '2027-01-12', provisional: false });
    const bad = await fetch(`${t.url}/v1/admin/calendar/2027`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', ...auth('admin') },
      body: JSON.stringify({ restDays: ['2028-01-01'], workingDays: ['2027-01-06'] }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { code: string }).code).toBe('CALENDAR.INVALID_YEAR');
  });

  it('rebuilds into new tables and switches: same read model as incremental projection', async () => {
    const snapshot = async () => {
      const c = new Client({ connectionString: t.db.url });
      await c.connect();
      try {
        const out: Record<string, unknown[]> = {};
        for (const [table, order] of [
          ['contracts', 'contract_id'],
          ['obligations', 'contract_id, key'],
          ['invoices', 'contract_id, invoice_no'],
          ['payments', 'contract_id, payment_id'],
          ['allocations', 'contract_id, invoice_no, payment_id'],
        ]) {
          const { rows } = await c.query(`SELECT * FROM rm.${table} ORDER BY ${order}`);
          out[table] = rows.map(({ updated_at: _u, ...r }) => r);
        }
        return out;
      } finally {
        await c.end();
      }
    };
    const before = await snapshot();
    expect(before.contracts.length).toBeGreaterThan(5);
    const r = await post('/v1/admin/projections/compliance/rebuild?wait=true', {});
    expect(r.status).toBe(202);
    expect(r.body.state).toBe('done');
    expect(await snapshot()).toEqual(before);
    const p = (await get('/v1/admin/projections')).body.projections[0];
    expect(p.behind).toBe(0);
    expect((await post('/v1/admin/projections/nope/rebuild', {})).status).toBe(404);
  });

  it('sends a cached answer as the same JSON every time (content type, ETag, 304) and a new one once the read model moves', async () => {
    const U = 'U-500109-077';
    await send([
      ev.award('SHARED-1', '2026-11-02', {
        unit: { code: U, name: '重庆市某区测试单位', region: '500109' },
      }),
    ]);
    const path = `/v1/units?asOf=${TODAY}&pageSize=200`;
    const first = await get(path);
    const second = await get(path);
    for (const r of [first, second]) {
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe('application/json; charset=utf-8');
    }
    expect(second.body).toEqual(first.body);
    const etag = first.headers.get('etag');
    expect(etag).toBeTruthy();
    expect(second.headers.get('etag')).toBe(etag);
    const mine = (b: { items: Array<{ unitCode: string; contracts: number }> }) =>
      b.items.find((i) => i.unitCode === U);
    expect(mine(first.body)).toMatchObject({ contracts: 1 });
    // a conditional request for the same answer: 304 without a body (node:http, since fetch
    // adds "cache-control: no-cache" to a request with If-None-Match, which asks for 200)
    const cond = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpGet(
        `${t.url}${path}`,
        { headers: { ...authFor('GET', path), 'if-none-match': etag! } },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, body }));
        },
      );
      req.on('error', reject);
    });
    expect(cond).toEqual({ status: 304, body: '' });
    // a second contract of the unit, projected: a new answer, not the kept text
    await send([
      ev.award('SHARED-2', '2026-11-03', {
        unit: { code: U, name: '重庆市某区测试单位', region: '500109' },
      }),
    ]);
    const third = await get(path);
    expect(mine(third.body)).toMatchObject({ contracts: 2 });
    expect(third.headers.get('etag')).not.toBe(etag);
  });

  it('validates query parameters with stable codes', async () => {
    for (const q of [
      '/v1/violations?status=pending',
      '/v1/violations?asOf=2021-02-30',
      '/v1/units?pageSize=0',
      '/v1/units?bogus=1',
      '/v1/violations?from=2021-05-01&to=2021-04-01',
    ]) {
      const r = await get(q);
      expect([q, r.status, r.body.code]).toEqual([q, 400, 'REQUEST.VALIDATION_FAILED']);
    }
    expect((await get('/v1/contracts/NOPE?asOf=2021-01-01')).body.code).toBe('CONTRACT.NOT_FOUND');
    expect((await get('/v1/units/NOPE/compliance')).status).toBe(404);
    expect((await get(`/v1/suppliers/${creditCode(999)}/payments`)).status).toBe(404);
  });
});
