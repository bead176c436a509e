import { catchUpToHead } from '../support/catch-up';
import { creditCode, ev, type Envelope } from '@app/testing';
import { randomUUID } from 'node:crypto';
import { startTestApp, type TestApp } from '../support/test-app';
import { authFor } from '../support/auth';

/**
 * Policy layers (SPEC §6) through HTTP, on the real database: contracts in Beijing (110105),
 * Chongqing (500102) and of a unit without a region follow the layer in force for their unit
 * on each obligation's start day; every obligation says which layer and article; a layer added
 * and then changed through the admin API reaches every stored contract it affects (contract
 * answers, violations, CSV, ranking agree), and a rebuild gives the same; refused changes
 * store nothing; the procurement-intention rule.
 */
describe('policy layers (e2e)', () => {
  let t: TestApp;
  const call = async (method: string, path: string, payload?: unknown) => {
    const res = await fetch(`${t.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...authFor(method, path) },
      ...(payload !== undefined && { body: JSON.stringify(payload) }),
    });
    const text = await res.text();
    const body: any = res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text;
    return { status: res.status, body };
  };
  const get = (path: string) => call('GET', path);
  const catchUp = () => catchUpToHead(t.app);
  const send = async (events: Envelope[]) => {
    const r = await call('POST', '/v1/events', events);
    expect(r.status).toBe(200);
    expect(r.body.results.filter((x: { status: string }) => x.status !== 'accepted')).toEqual([]);
    await catchUp();
  };
  const typed = (type: string, contractId: string, date: string, data = {}): Envelope => ({
    eventId: randomUUID(),
    type,
    contractId,
    occurredAt: `${date}T10:00:00+08:00`,
    schemaVersion: 1,
    data,
  });
  const AS_OF = '2023-06-30';
  const obligations = async (id: string, asOf = AS_OF) => {
    const r = await get(`/v1/contracts/${id}?asOf=${asOf}`);
    expect(r.status).toBe(200);
    return Object.fromEntries(
      (r.body.obligations as Array<Record<string, unknown>>).map((o) => [o.key, o]),
    ) as Record<string, Record<string, unknown>>;
  };
  const pick = (o: Record<string, unknown> | undefined) =>
    o && [o.deadline, o.status, o.policy, o.source];

  const UNITS = {
    bj: { code: 'U-BJ', name: '北京市朝阳区某局', region: '110105' },
    cq: { code: 'U-CQ', name: '重庆市涪陵区某局', region: '500102' },
    none: { code: 'U-NONE', name: '无区域单位' },
  };
  // every contract: award 2023-03-01, signed 2023-03-25 (a Saturday, 24 days), announced 03-28,
  // filed 03-31, performed 04-03, invoice 04-04 unpaid (2023-04-05 is 清明)
  const lifecycle = (id: string, unit: (typeof UNITS)[keyof typeof UNITS]) => [
    ev.award(id, '2023-03-01', { unit, supplierCode: creditCode(500), size: 'small' }),
    ev.signed(id, '2023-03-25', '1000.00'),
    ev.announced(id, '2023-03-28'),
    ev.filed(id, '2023-03-31'),
    ev.performed(id, '2023-04-03'),
    ev.invoice(id, '2023-04-04', 'I-1', '100.00', 'progress'),
  ];

  beforeAll(async () => {
    t = await startTestApp({ clock: { now: () => Date.parse('2023-07-01T12:00:00+08:00') } });
    await send([
      ...lifecycle('P-BJ', UNITS.bj),
      ...lifecycle('P-CQ', UNITS.cq),
      ...lifecycle('P-NONE', UNITS.none),
    ]);
  });
  afterAll(async () => {
    await t?.close();
  });

  /** Ranking and violations agree with the contract answers, for every unit. */
  async function expectConsistent(): Promise<void> {
    const viol = (await get(`/v1/violations?asOf=${AS_OF}&pageSize=500`)).body.items as Array<
      Record<string, unknown>
    >;
    const ranking = (await get(`/v1/units?asOf=${AS_OF}`)).body.items as Array<{
      unitCode: string;
      counts: Record<string, number>;
    }>;
    for (const [id, unit] of [
      ['P-BJ', UNITS.bj],
      ['P-CQ', UNITS.cq],
      ['P-NONE', UNITS.none],
    ] as const) {
      const mine = Object.values(await obligations(id));
      const bad = mine.filter((o) => o.status === 'late' || o.status === 'overdue');
      const listed = viol.filter((v) => v.contractId === id);
      expect(listed.map((v) => [v.key, v.status, v.deadline, v.policy, v.source]).sort()).toEqual(
        bad.map((o) => [o.key, o.status, o.deadline, o.policy, o.source]).sort(),
      );
      const row = ranking.find((u) => u.unitCode === unit.code)!;
      for (const s of ['met', 'late', 'overdue', 'pending'])
        expect([unit.code, s, row.counts[s]]).toEqual([
          unit.code,
          s,
          mine.filter((o) => o.status === s).length,
        ]);
    }
    const csv = await fetch(`${t.url}/v1/violations?asOf=${AS_OF}`, {
      headers: { accept: 'text/csv', ...authFor('GET', '/v1/violations') },
    });
    const lines = (await csv.text()).trim().split('\r\n');
    expect(lines[0]).toContain('政策 policy');
    expect(lines).toHaveLength(viol.length + 1);
  }

  it('built in: Chongqing, national for Beijing and for a unit without a region, with policy and source', async () => {
    const cq = await obligations('P-CQ');
    expect(pick(cq.signing)).toEqual([
      '2023-03-21',
      'late',
      'chongqing-2021',
      'seed item 13; 政府采购法 art. 46',
    ]);
    expect(pick(cq.announcement)).toEqual([
      '2023-03-28',
      'met',
      'national',
      '政府采购法实施条例 art. 50',
    ]);
    expect(pick(cq.acceptance)?.slice(0, 3)).toEqual(['2023-04-13', 'overdue', 'chongqing-2021']);
    expect(pick(cq['payment:I-1'])).toEqual([
      '2023-04-12',
      'overdue',
      'chongqing-2021',
      'seed item 15',
    ]);
    const contract = (await get(`/v1/contracts/P-CQ?asOf=${AS_OF}`)).body;
    expect(contract.prepayment).toMatchObject({
      threshold: '0.50',
      policy: 'chongqing-2021',
      source: 'seed item 15',
    });
    for (const id of ['P-BJ', 'P-NONE']) {
      const o = await obligations(id);
      // 30 days: 2023-03-31; no acceptance without a stated period; no invoice payment rule
      expect(Object.keys(o).sort()).toEqual(['announcement', 'filing', 'signing']);
      expect(pick(o.signing)).toEqual(['2023-03-31', 'met', 'national', '政府采购法 art. 46']);
      expect((await get(`/v1/contracts/${id}?asOf=${AS_OF}`)).body.prepayment).toBeNull();
    }
    const pay = (await get(`/v1/suppliers/${creditCode(500)}/payments?asOf=${AS_OF}`)).body;
    const inv = (id: string) =>
      pay.invoices.find((i: { contractId: string }) => i.contractId === id);
    expect(inv('P-CQ')).toMatchObject({ status: 'overdue', policy: 'chongqing-2021' });
    expect(inv('P-BJ')).toMatchObject({ status: 'not-monitored', dueOn: null, policy: null });
    expect(pay.prepayments.map((p: { contractId: string }) => p.contractId)).toEqual(['P-CQ']);
    await expectConsistent();

    const list = (await get('/v1/policies')).body;
    expect(list.pending).toBe(false);
    expect(list.layers.map((l: { id: string }) => l.id)).toEqual(['chongqing-2021', 'national']);
    expect(list.layers[1]).toMatchObject({
      regions: [''],
      version: 0,
      builtIn: true,
      rules: { signing: { period: { unit: 'calendarDays', n: 30 } }, payment: { off: true } },
    });
  });

  const BEIJING = {
    name: '北京市政府采购合同管理（测试）',
    regions: ['11'],
    from: '2023-01-01',
    rules: {
      signing: { period: { unit: 'calendarDays', n: 20 } },
      payment: { period: { unit: 'workingDays', n: 10 }, source: '京财采购〔2023〕1号 第5条' },
    },
    source: '京财采购〔2023〕1号',
  };

  it('a layer added, then changed: every affected stored contract follows; others do not move', async () => {
    const before = { cq: await obligations('P-CQ'), none: await obligations('P-NONE') };
    const put = await call('PUT', '/v1/admin/policies/beijing-2023', BEIJING);
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ id: 'beijing-2023', version: 1, status: 'stored' });
    expect((await get('/v1/policies')).body.pending).toBe(true);
    await catchUp(); // the leader's tick applies it
    expect((await get('/v1/policies')).body.pending).toBe(false);

    let bj = await obligations('P-BJ');
    expect(pick(bj.signing)).toEqual(['2023-03-21', 'late', 'beijing-2023', '京财采购〔2023〕1号']);
    expect(pick(bj['payment:I-1'])).toEqual([
      '2023-04-19', // 10 working days after 04-04 (04-05 清明)
      'overdue',
      'beijing-2023',
      '京财采购〔2023〕1号 第5条',
    ]);
    expect(pick(bj.filing)?.slice(2)).toEqual(['national', '政府采购法 art. 47']);
    expect(await obligations('P-CQ')).toEqual(before.cq);
    expect(await obligations('P-NONE')).toEqual(before.none);
    await expectConsistent();

    // changed: signing 30 working days, payment off; the earlier version is kept
    const changed = {
      ...BEIJING,
      rules: { signing: { period: { unit: 'workingDays', n: 30 } }, payment: { off: true } },
    };
    expect((await call('PUT', '/v1/admin/policies/beijing-2023', changed)).status).toBe(200);
    await catchUp();
    bj = await obligations('P-BJ');
    expect(Object.keys(bj).sort()).toEqual(['announcement', 'filing', 'signing']);
    expect(pick(bj.signing)).toEqual(['2023-04-13', 'met', 'beijing-2023', '京财采购〔2023〕1号']);
    expect(bj.signing.delayWorkingDays).toBe(0);
    const layer = (await get('/v1/policies')).body.layers.find(
      (l: { id: string }) => l.id === 'beijing-2023',
    );
    expect(layer).toMatchObject({ version: 2, changedBy: expect.any(String) });
    expect(layer.history.map((h: { version: number }) => h.version)).toEqual([1]);
    expect(layer.history[0].layer.rules.payment).toEqual(BEIJING.rules.payment);
    await expectConsistent();

    // a rebuild computes the same, from the applied layers in the database
    const snapshot = {
      bj: await obligations('P-BJ'),
      cq: await obligations('P-CQ'),
      none: await obligations('P-NONE'),
    };
    const r = await call('POST', '/v1/admin/projections/compliance/rebuild?wait=true', {});
    expect(r.status).toBe(202);
    expect(r.body.state).toBe('done');
    expect({
      bj: await obligations('P-BJ'),
      cq: await obligations('P-CQ'),
      none: await obligations('P-NONE'),
    }).toEqual(snapshot);
    await expectConsistent();
  });

  it('a changed national layer reaches units without a region, and Chongqing where it defers to it', async () => {
    const national = (await get('/v1/policies')).body.layers.find(
      (l: { id: string }) => l.id === 'national',
    );
    const body = {
      name: national.name,
      regions: national.regions,
      from: national.from,
      to: national.to,
      rules: { ...national.rules, announcement: { period: { unit: 'workingDays', n: 1 } } },
      source: national.source,
    };
    expect((await call('PUT', '/v1/admin/policies/national', body)).status).toBe(200);
    await catchUp();
    for (const id of ['P-NONE', 'P-CQ'])
      expect(pick((await obligations(id)).announcement)?.slice(0, 3)).toEqual([
        '2023-03-27',
        'late',
        'national',
      ]);
    await expectConsistent();
    // back as it was, for the other cases
    expect(
      (await call('PUT', '/v1/admin/policies/national', { ...body, rules: national.rules })).status,
    ).toBe(200);
    await catchUp();
    expect(pick((await obligations('P-NONE')).announcement)?.[0]).toBe('2023-03-28');
  });

  it('refused changes name why with a code and store nothing', async () => {
    const before = (await get('/v1/policies')).body;
    const refuse = async (id: string, body: unknown, status: number, code: string) => {
      const r = await call('PUT', `/v1/admin/policies/${id}`, body);
      expect([id, r.status, r.body.code]).toEqual([id, status, code]);
      expect(r.body.details?.[0]?.path).toEqual(expect.any(String));
    };
    await refuse(
      'x1',
      { ...BEIJING, rules: { paying: { off: true } } },
      400,
      'POLICY.UNKNOWN_RULE',
    );
    await refuse(
      'x2',
      {
        ...BEIJING,
        regions: ['12'],
        rules: { signing: { period: { unit: 'calendarDays', n: 0 } } },
      },
      400,
      'POLICY.INVALID_SETTING',
    );
    await refuse('x3', { ...BEIJING, regions: ['1a'] }, 400, 'POLICY.INVALID');
    await refuse('x4', { ...BEIJING, from: '2023-02-30' }, 400, 'POLICY.INVALID');
    // shares prefix 11 with beijing-2023 over overlapping dates
    await refuse('x5', { ...BEIJING, from: '2024-01-01' }, 409, 'POLICY.OVERLAPPING');
    await refuse('Bad_Id', BEIJING, 400, 'POLICY.INVALID');
    await catchUp();
    expect((await get('/v1/policies')).body).toEqual(before);
    // a narrower region, or dates that do not overlap, are fine
    expect(
      (
        await call('PUT', '/v1/admin/policies/beijing-chaoyang', {
          ...BEIJING,
          regions: ['110105'],
        })
      ).status,
    ).toBe(200);
  });

  it('procurement intention: met, late, missing, not in force, exempted', async () => {
    const cq = { unit: UNITS.cq, supplierCode: creditCode(501) };
    const bj = { unit: UNITS.bj, supplierCode: creditCode(501) };
    const notice = (id: string, date: string) =>
      typed('ProcurementNoticePublished', id, date, { method: 'open_tender' });
    const intention = (id: string, date: string) =>
      typed('ProcurementIntentionPublished', id, date, { budgetAmount: '1000.00' });
    await send([
      intention('I-MET', '2023-01-30'),
      notice('I-MET', '2023-03-01'),
      ev.award('I-MET', '2023-04-01', cq),
      intention('I-LATE', '2023-02-10'),
      notice('I-LATE', '2023-03-01'),
      ev.award('I-LATE', '2023-04-01', cq),
      notice('I-MISSING', '2023-03-01'),
      ev.award('I-MISSING', '2023-04-01', bj),
      notice('I-OFF', '2021-12-01'), // Beijing: national, in force from 2022-01-01 only
      ev.award('I-OFF', '2022-01-10', bj),
      notice('I-EX', '2023-03-01'),
      ev.award('I-EX', '2023-04-01', cq),
    ]);
    const i = async (id: string) => (await obligations(id)).intention;
    expect(await i('I-MET')).toMatchObject({
      startedOn: '2023-03-01',
      deadline: '2023-01-30',
      fulfilledOn: '2023-01-30',
      status: 'met',
      policy: 'chongqing-2021',
      delayWorkingDays: null,
    });
    expect(await i('I-LATE')).toMatchObject({ status: 'late', delayDays: 11 });
    expect(await i('I-MISSING')).toMatchObject({
      status: 'overdue',
      delayDays: 151, // 2023-01-30 → 2023-06-30
      policy: 'national',
      source: expect.stringContaining('财库〔2020〕10号'),
    });
    expect(await i('I-OFF')).toBeUndefined();
    const ex = await call('POST', '/v1/contracts/I-EX/exemptions', {
      rule: 'intention',
      reason: '不可预见的紧急采购',
    });
    expect(ex.status).toBe(201);
    await catchUp();
    // the exemption is dated today (the clock: 2023-07-01)
    expect((await i('I-EX'))?.status).toBe('overdue');
    expect((await obligations('I-EX', '2023-07-01')).intention.status).toBe('exempted');
    // counted like every other rule
    const viol = (await get(`/v1/violations?asOf=2023-07-01&rule=intention`)).body.items;
    expect(viol.map((v: { contractId: string }) => v.contractId).sort()).toEqual([
      'I-LATE',
      'I-MISSING',
    ]);
    const comp = (await get(`/v1/units/${UNITS.cq.code}/compliance?asOf=2023-07-01`)).body;
    expect(comp.rules.find((r: { rule: string }) => r.rule === 'intention')).toMatchObject({
      counts: { met: 1, late: 1, exempted: 1 },
    });
    const ranked = (await get(`/v1/units?asOf=2023-07-01&rule=intention`)).body.items;
    expect(ranked.find((u: { unitCode: string }) => u.unitCode === UNITS.bj.code)).toMatchObject({
      counts: { overdue: 1 },
    });
    // a second notice is a conflict
    const again = await call('POST', '/v1/events', notice('I-MET', '2023-03-02'));
    expect([again.status, again.body.code]).toEqual([409, 'CONTRACT.NOTICE_ALREADY_PUBLISHED']);
  });
});
