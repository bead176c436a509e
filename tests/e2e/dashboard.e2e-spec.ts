/**
 * The dashboard's read APIs (SPEC §9, issue #14 item 6) on the real application: `/v1/me`,
 * `/v1/overview`, `/v1/trends`, `/v1/regions`, `/v1/platforms/lag` and the violations' .xlsx
 * export. Every figure is checked against the per-contract answers of `GET /v1/contracts/{id}`
 * (and `/events`) for the same feed: generated histories of four units plus hand-made
 * contracts in three regions.
 */
import ExcelJS from 'exceljs';
import { businessDateOf, fenToYuan, rateDown, yuanToFen } from '@app/domain';
import { ComplianceProjector, PROJECTION_NAME, ProjectorDaemon } from '@app/projections';
import { ReadPool } from '@app/platform';
import { creditCode, ev, sampleHistories, type Envelope } from '@app/testing';
import { countRegions } from '../../libs/projections/src/queries/regions.query-handler';
import { bearer, tokenFor } from '../support/auth';
import { startTestApp, type TestApp } from '../support/test-app';

type Counts = Record<'met' | 'late' | 'overdue' | 'pending' | 'exempted' | 'cancelled', number>;
const STATUSES = ['met', 'late', 'overdue', 'pending', 'exempted', 'cancelled'] as const;
const RULES = [
  'signing',
  'announcement',
  'filing',
  'acceptance',
  'payment',
  'intention',
  'smePayment',
];
const empty = (): Counts => ({
  met: 0,
  late: 0,
  overdue: 0,
  pending: 0,
  exempted: 0,
  cancelled: 0,
});
const rate = (c: Counts) => rateDown(c.met, c.met + c.late + c.overdue);

interface Obligation {
  rule: string;
  key: string;
  deadline: string;
  status: keyof Counts;
  contractId: string;
  unitCode: string;
  region: string | null;
}

// A fixed clock: "today" is 2027-06-01 in Asia/Shanghai, after every generated fact.
const NOW = Date.parse('2027-06-01T12:00:00+08:00');
const TODAY = '2027-06-01';
const AS_OFS = ['2021-10-20', '2023-06-30', TODAY];

const UNIT_A = { code: 'U-DASH-A', name: '涪陵区看板测试单位甲', region: '500102' };
const UNIT_B = { code: 'U-DASH-B', name: '涪陵区看板测试单位乙', region: '500102' };
const UNIT_C = { code: 'U-DASH-C', name: '丰都县看板测试单位', region: '500230' };

describe('dashboard read APIs (e2e)', () => {
  let t: TestApp;
  let inspector500230: string;
  const contractIds: string[] = [];

  const get = async (path: string, token?: string, headers: Record<string, string> = {}) => {
    const h: Record<string, string> = { ...headers };
    if (token) Object.assign(h, bearer(token));
    const res = await fetch(`${t.url}${path}`, { headers: h });
    const buf = Buffer.from(await res.arrayBuffer());
    const body: any = res.headers.get('content-type')?.includes('json')
      ? JSON.parse(buf.toString('utf8'))
      : buf;
    return { status: res.status, body, headers: res.headers };
  };
  let inspector: string;
  const iget = (path: string) => get(path, inspector);

  /** Every obligation of every contract as `GET /v1/contracts/{id}` answers it on asOf. */
  const answers = new Map<string, Obligation[]>();
  /** per asOf, each contract's `lateInterest` (SPEC §7) in fen, with its unit's region */
  const interests = new Map<string, Array<{ region: string | null; fen: bigint }>>();
  async function obligationsOn(asOf: string): Promise<Obligation[]> {
    const hit = answers.get(asOf);
    if (hit) return hit;
    const all: Obligation[] = [];
    const interest: Array<{ region: string | null; fen: bigint }> = [];
    interests.set(asOf, interest);
    for (const id of contractIds) {
      const r = await iget(`/v1/contracts/${id}?asOf=${asOf}`);
      expect(r.status).toBe(200);
      // the summaries count the obligations of contracts with a purchasing unit (SPEC §4 units)
      if (!r.body.purchasingUnit?.code) continue;
      interest.push({
        region: r.body.purchasingUnit.region ?? null,
        fen: yuanToFen(r.body.lateInterest),
      });
      for (const o of r.body.obligations)
        all.push({
          ...o,
          contractId: id,
          unitCode: r.body.purchasingUnit.code,
          region: r.body.purchasingUnit.region ?? null,
        });
    }
    answers.set(asOf, all);
    return all;
  }
  const countBy = <K extends string>(os: Obligation[], key: (o: Obligation) => K) => {
    const m = new Map<K, Counts>();
    for (const o of os) {
      const k = key(o);
      if (!m.has(k)) m.set(k, empty());
      m.get(k)![o.status]++;
    }
    return m;
  };

  beforeAll(async () => {
    t = await startTestApp({ clock: { now: () => NOW } });
    inspector = await tokenFor('inspector', { sub: 'dash-inspector' });
    inspector500230 = await tokenFor('inspector', { sub: 'dash-fengdu', regions: ['500230'] });
    const platform = await tokenFor('platform');
    const histories = sampleHistories('DASH', 36, 20261201);
    const handMade: Envelope[] = [
      ev.award('DASH-A-1', '2021-09-13', { unit: UNIT_A, supplierCode: creditCode(501) }),
      ev.signed('DASH-A-1', '2021-10-12'), // late signing (deadline 10-08)
      ev.announced('DASH-A-1', '2021-10-13'),
      ev.award('DASH-A-2', '2021-09-14', { unit: UNIT_A, supplierCode: creditCode(502) }),
      ev.award('DASH-B-1', '2021-09-01', { unit: UNIT_B, supplierCode: creditCode(503) }),
      ev.signed('DASH-B-1', '2021-09-10'),
      ev.announced('DASH-B-1', '2021-09-13'),
      ev.filed('DASH-B-1', '2021-09-14'),
      ev.award('DASH-C-1', '2021-08-02', { unit: UNIT_C, supplierCode: creditCode(504) }),
      ev.signed('DASH-C-1', '2021-08-30'), // late
      ev.invoice('DASH-C-1', '2021-09-01', 'C-INV-1', '1000.00', 'progress'),
      ev.award('DASH-C-2', '2022-03-01', { unit: UNIT_C, supplierCode: creditCode(505) }),
      ev.signed('DASH-C-2', '2022-03-10'),
      // SPEC §7's example (an SME, accepted 2025-05-09, paid in full 2025-06-20: 550.00 late
      // interest), and an SME contract accepted and never paid
      ev.award('DASH-C-SME', '2025-03-03', {
        unit: UNIT_C,
        supplierCode: creditCode(506),
        amount: '100000.00',
      }),
      ev.signed('DASH-C-SME', '2025-03-10', '100000.00'),
      ev.performed('DASH-C-SME', '2025-05-08'),
      ev.accepted('DASH-C-SME', '2025-05-09'),
      ev.payment('DASH-C-SME', '2025-06-20', 'C-SME-P1', '100000.00', 'final'),
      ev.award('DASH-A-SME', '2025-03-03', {
        unit: UNIT_A,
        supplierCode: creditCode(507),
        amount: '20000.00',
      }),
      ev.signed('DASH-A-SME', '2025-03-10', '20000.00'),
      ev.performed('DASH-A-SME', '2025-07-01'),
      ev.accepted('DASH-A-SME', '2025-07-02'),
    ];
    const batches = [...histories.map((h) => h.events), handMade].filter((b) => b.length > 0);
    for (const batch of batches) {
      const res = await fetch(`${t.url}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...bearer(platform) },
        body: JSON.stringify(batch),
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { results: Array<{ status: string }> };
      expect(body.results.filter((r) => r.status !== 'accepted')).toEqual([]);
    }
    contractIds.push(...new Set(batches.flat().map((e) => e.contractId)));
    // gap-safe reads wait for every older transaction of the cluster (other suites' too):
    // catch up until the checkpoint has reached the head of the store
    const daemon = t.app.get(ProjectorDaemon);
    const projector = t.app.get(ComplianceProjector);
    for (let i = 0; ; i++) {
      await daemon.catchUp();
      if ((await projector.lag(PROJECTION_NAME)).behind === 0) break;
      if (i > 600) throw new Error('the projector did not catch up');
      await new Promise((r) => setTimeout(r, 50));
    }
  });
  afterAll(async () => {
    await t?.close();
  });

  // ---------------------------------------------------------------------------------------
  describe('GET /v1/me', () => {
    it('answers each role its claims and expiry, never the token', async () => {
      const exp = Math.floor(Date.now() / 1000) + 1800;
      const cases: Array<[string, Record<string, unknown>]> = [
        [
          await tokenFor('inspector', { sub: 'me-i', regions: ['500102', '5002'], exp }),
          { role: 'inspector', subject: 'me-i', regions: ['500102', '5002'] },
        ],
        [
          await tokenFor('inspector', { sub: 'me-all', exp }),
          { role: 'inspector', subject: 'me-all' },
        ],
        [
          await tokenFor('supplier', { sub: 'me-s', creditCode: creditCode(9), exp }),
          { role: 'supplier', subject: 'me-s', creditCode: creditCode(9) },
        ],
        [
          await tokenFor('platform', { sub: 'me-p', platformId: 'gov-cq-fl', exp }),
          { role: 'platform', subject: 'me-p', platformId: 'gov-cq-fl' },
        ],
        [await tokenFor('admin', { sub: undefined, exp }), { role: 'admin', subject: null }],
      ];
      for (const [token, want] of cases) {
        const r = await get('/v1/me', token);
        expect(r.status).toBe(200);
        expect(r.headers.get('cache-control')).toBe('no-store');
        expect(r.body).toEqual({ ...want, exp, expiresAt: new Date(exp * 1000).toISOString() });
        expect(JSON.stringify(r.body)).not.toContain(token.split('.')[2]);
      }
    });

    it('claims of another role are not shown (a supplier token with regions)', async () => {
      const token = await tokenFor('supplier', { regions: ['500102'], platformId: 'x' });
      const r = await get('/v1/me', token);
      expect(Object.keys(r.body).sort()).toEqual(
        ['creditCode', 'exp', 'expiresAt', 'role', 'subject'].sort(),
      );
    });

    it('401 without a token; 400 with a query parameter', async () => {
      expect((await get('/v1/me')).body.code).toBe('AUTH.UNAUTHORIZED');
      const r = await get('/v1/me?x=1', inspector);
      expect([r.status, r.body.code]).toEqual([400, 'REQUEST.VALIDATION_FAILED']);
    });
  });

  // ---------------------------------------------------------------------------------------
  describe('GET /v1/overview', () => {
    const check = async (
      asOf: string,
      inView: (region: string | null) => boolean,
      path: string,
      token = inspector,
    ) => {
      const os = (await obligationsOn(asOf)).filter((o) => inView(o.region));
      const r = await get(path, token);
      expect(r.status).toBe(200);
      const b = r.body;
      expect(b.asOf).toBe(asOf);
      const byRule = countBy(os, (o) => o.rule);
      expect(b.rules.map((x: { rule: string }) => x.rule)).toEqual(RULES);
      for (const x of b.rules) {
        const c = byRule.get(x.rule) ?? empty();
        expect([x.rule, x.counts]).toEqual([x.rule, c]);
        expect([x.rule, x.onTimeRate]).toEqual([x.rule, rate(c)]);
        expect(x.open).toBe(c.pending + c.overdue);
        expect(x.overdue).toBe(c.overdue);
        expect(x.violations).toBe(c.late + c.overdue);
        expect(x.total).toBe(STATUSES.reduce((a, s) => a + c[s], 0));
      }
      const all = countBy(os, () => 'all').get('all') ?? empty();
      expect(b.totals).toEqual({
        counts: all,
        total: os.length,
        onTimeRate: rate(all),
        open: all.pending + all.overdue,
        overdue: all.overdue,
        violations: all.late + all.overdue,
        units: new Set(os.map((o) => o.unitCode)).size,
      });
      // the worst units: lowest on-time rate, then most violations, then unit code
      const perUnit = [...countBy(os, (o) => o.unitCode)]
        .map(([unitCode, c]) => ({ unitCode, c, r: rate(c), v: c.late + c.overdue }))
        .filter((u) => u.r !== null)
        .sort((x, y) => x.r! - y.r! || y.v - x.v || (x.unitCode < y.unitCode ? -1 : 1));
      expect(b.worstUnits.map((u: { unitCode: string }) => u.unitCode)).toEqual(
        perUnit.slice(0, 5).map((u) => u.unitCode),
      );
      for (const u of b.worstUnits) {
        const want = perUnit.find((x) => x.unitCode === u.unitCode)!;
        expect(u).toMatchObject({ counts: want.c, onTimeRate: want.r, violations: want.v });
      }
      // the sum of the contracts' late interest, exact in fen
      const fen = interests
        .get(asOf)!
        .filter((c) => inView(c.region))
        .reduce((a, c) => a + c.fen, 0n);
      expect(b.smeLateInterest).toBe(fenToYuan(fen));
      return { body: b, os, fen };
    };

    it.each(AS_OFS)('agrees with the contract answers as of %s', async (asOf) => {
      const { body: b, os, fen } = await check(asOf, () => true, `/v1/overview?asOf=${asOf}`);
      expect(os.length).toBeGreaterThan(0);
      expect(b.region).toBeNull();
      // SME late interest exists from 2025-06 (the hand-made SPEC §7 example: 550.00)
      if (asOf === TODAY) expect(fen).toBeGreaterThanOrEqual(55000n);
      // and with the unit ranking
      const units = (await iget(`/v1/units?asOf=${asOf}&pageSize=500`)).body;
      expect(b.totals.units).toBe(units.total);
      expect(b.worstUnits.map((u: { unitCode: string }) => u.unitCode)).toEqual(
        units.items
          .filter((u: { onTimeRate: number | null }) => u.onTimeRate !== null)
          .slice(0, 5)
          .map((u: { unitCode: string }) => u.unitCode),
      );
      expect(b.worstUnits[0]).toMatchObject({
        unitName: units.items[0].unitName,
        region: units.items[0].region,
      });
    });

    it('filters by region, and a region-limited inspector sees only its regions', async () => {
      for (const asOf of ['2023-06-30', TODAY]) {
        const in500102 = (r: string | null) => !!r?.startsWith('500102');
        const a = await check(asOf, in500102, `/v1/overview?asOf=${asOf}&region=500102`);
        expect(a.os.length).toBeGreaterThan(0);
        expect(a.body.region).toBe('500102');
        const in500230 = (r: string | null) => !!r?.startsWith('500230');
        const f = await check(asOf, in500230, `/v1/overview?asOf=${asOf}`, inspector500230);
        expect(f.os.length).toBeGreaterThan(0);
        if (asOf === TODAY) expect(f.fen).toBeGreaterThanOrEqual(55000n);
        // asking for another region does not widen the scope
        await check(asOf, () => false, `/v1/overview?asOf=${asOf}&region=500102`, inspector500230);
      }
    });

    it('validates its parameters with stable codes', async () => {
      for (const q of [
        'asOf=2021-02-30',
        'region=50%25',
        'region=',
        'bogus=1',
        'asOf=1999-12-31',
      ]) {
        const r = await iget(`/v1/overview?${q}`);
        expect([q, r.status, r.body.code]).toEqual([q, 400, 'REQUEST.VALIDATION_FAILED']);
      }
      expect((await iget('/v1/overview')).body.asOf).toBe(TODAY);
    });
  });

  // ---------------------------------------------------------------------------------------
  describe('GET /v1/trends', () => {
    const months = (from: string, to: string) => {
      const out: string[] = [];
      const d = new Date(`${from}-01T00:00:00Z`);
      while (d.toISOString().slice(0, 7) <= to) {
        out.push(d.toISOString().slice(0, 7));
        d.setUTCMonth(d.getUTCMonth() + 1);
      }
      return out;
    };
    const check = async (
      asOf: string,
      os: Obligation[],
      from: string,
      to: string,
      path: string,
      token = inspector,
    ) => {
      const r = await get(path, token);
      expect(r.status).toBe(200);
      expect(r.body.months.map((m: { month: string }) => m.month)).toEqual(months(from, to));
      const byMonth = countBy(
        os.filter((o) => o.deadline.slice(0, 7) >= from && o.deadline.slice(0, 7) <= to),
        (o) => o.deadline.slice(0, 7),
      );
      for (const m of r.body.months) {
        const c = byMonth.get(m.month) ?? empty();
        expect([m.month, m.counts, m.onTimeRate, m.violations, m.total]).toEqual([
          m.month,
          c,
          rate(c),
          c.late + c.overdue,
          STATUSES.reduce((a, s) => a + c[s], 0),
        ]);
      }
      expect(r.body).toMatchObject({ asOf, from, to });
      return r.body;
    };

    it.each(AS_OFS)(
      'agrees with the contract answers per month of deadline, as of %s',
      async (asOf) => {
        const os = await obligationsOn(asOf);
        const b = await check(
          asOf,
          os,
          '2020-01',
          '2026-12',
          `/v1/trends?asOf=${asOf}&from=2020-01&to=2026-12`,
        );
        const sum = b.months.reduce((a: number, m: { total: number }) => a + m.total, 0);
        // every obligation has its deadline in those years
        expect(sum).toBe(
          os.filter((o) => o.deadline >= '2020-01-01' && o.deadline <= '2026-12-31').length,
        );
        expect(sum).toBeGreaterThan(0);
      },
    );

    it('filters by unit, rule and region; a region-limited inspector sees only its regions', async () => {
      const asOf = '2023-06-30';
      const os = await obligationsOn(asOf);
      const [from, to] = ['2021-01', '2022-12'];
      const u = 'U-500102-001';
      await check(
        asOf,
        os.filter((o) => o.unitCode === u),
        from,
        to,
        `/v1/trends?asOf=${asOf}&from=${from}&to=${to}&unit=${u}`,
      );
      await check(
        asOf,
        os.filter((o) => o.rule === 'signing'),
        from,
        to,
        `/v1/trends?asOf=${asOf}&from=${from}&to=${to}&rule=signing`,
      );
      await check(
        asOf,
        os.filter((o) => o.region?.startsWith('5001') && o.rule === 'announcement'),
        from,
        to,
        `/v1/trends?asOf=${asOf}&from=${from}&to=${to}&region=5001&rule=announcement`,
      );
      const fengdu = os.filter((o) => o.region === '500230');
      expect(fengdu.length).toBeGreaterThan(0);
      await check(
        asOf,
        fengdu,
        from,
        to,
        `/v1/trends?asOf=${asOf}&from=${from}&to=${to}`,
        inspector500230,
      );
      await check(
        asOf,
        [],
        from,
        to,
        `/v1/trends?asOf=${asOf}&from=${from}&to=${to}&unit=${u}`,
        inspector500230,
      );
    });

    it('defaults to the 12 months ending with the month of asOf', async () => {
      const r = await iget('/v1/trends?asOf=2021-10-20');
      expect(r.status).toBe(200);
      expect([r.body.from, r.body.to, r.body.months.length]).toEqual(['2020-11', '2021-10', 12]);
      const only = await iget('/v1/trends?asOf=2021-10-20&to=2021-03');
      expect([only.body.from, only.body.to]).toEqual(['2020-04', '2021-03']);
      expect((await iget('/v1/trends')).body.to).toBe(TODAY.slice(0, 7));
    });

    it('validates its parameters with stable codes; at most 120 months', async () => {
      expect((await iget('/v1/trends?from=2011-01&to=2020-12')).status).toBe(200); // 120 months
      for (const [q, code] of [
        ['from=2011-01&to=2021-01', 'REQUEST.RANGE_TOO_LONG'],
        ['from=2000-01&to=2100-12', 'REQUEST.RANGE_TOO_LONG'],
        ['from=2021-05&to=2021-04', 'REQUEST.VALIDATION_FAILED'],
        ['from=2021-13', 'REQUEST.VALIDATION_FAILED'],
        ['from=2021-1', 'REQUEST.VALIDATION_FAILED'],
        ['from=2021-01-01', 'REQUEST.VALIDATION_FAILED'],
        ['to=1999-12', 'REQUEST.VALIDATION_FAILED'],
        ['rule=prepayment', 'REQUEST.VALIDATION_FAILED'],
        ['unit=a%20b', 'REQUEST.VALIDATION_FAILED'],
        ['region=5_', 'REQUEST.VALIDATION_FAILED'],
        ['asOf=2021-02-29', 'REQUEST.VALIDATION_FAILED'],
      ]) {
        const r = await iget(`/v1/trends?${q}`);
        expect([q, r.status, r.body.code]).toEqual([q, 400, code]);
      }
    });
  });

  // ---------------------------------------------------------------------------------------
  describe('GET /v1/regions', () => {
    const check = async (
      asOf: string,
      os: Obligation[],
      path: string,
      rule?: string,
      token = inspector,
    ) => {
      const r = await get(path, token);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ asOf, rule: rule ?? null });
      const keyOf = (o: Obligation) => o.region ?? '(none)';
      const byRegion = countBy(os, keyOf);
      const regions = [...byRegion.keys()].sort((a, b) =>
        a === '(none)' ? 1 : b === '(none)' ? -1 : a < b ? -1 : 1,
      );
      expect(r.body.items.map((x: { region: string | null }) => x.region ?? '(none)')).toEqual(
        regions,
      );
      for (const item of r.body.items) {
        const key = item.region ?? '(none)';
        const mine = os.filter((o) => keyOf(o) === key);
        const c = byRegion.get(key)!;
        expect([key, item.counts, item.onTimeRate, item.units]).toEqual([
          key,
          c,
          rate(c),
          new Set(mine.map((o) => o.unitCode)).size,
        ]);
        expect(item.rules.map((x: { rule: string }) => x.rule)).toEqual(rule ? [rule] : RULES);
        const perRule = countBy(mine, (o) => o.rule);
        for (const x of item.rules)
          expect([key, x.rule, x.counts, x.onTimeRate]).toEqual([
            key,
            x.rule,
            perRule.get(x.rule) ?? empty(),
            rate(perRule.get(x.rule) ?? empty()),
          ]);
      }
    };

    it.each(AS_OFS)(
      'agrees with the contract answers per region and rule, as of %s',
      async (asOf) => {
        const os = await obligationsOn(asOf);
        await check(asOf, os, `/v1/regions?asOf=${asOf}`);
        // the two ways of counting (summary corrected, or direct) agree row for row
        const pool = t.app.get(ReadPool).pool;
        const norm = (
          rows: Array<{
            unit_code: string;
            region: string;
            rule: string;
            status: string | null;
            n: number;
          }>,
        ) =>
          rows
            .filter((r) => r.status !== null && r.n !== 0)
            .map((r) => `${r.unit_code}|${r.region}|${r.rule}|${r.status}|${r.n}`)
            .sort();
        for (const rule of [undefined, 'signing'])
          expect(norm(await countRegions(pool, { asOf, rule }, 'summary'))).toEqual(
            norm(await countRegions(pool, { asOf, rule }, 'direct')),
          );
        await check(
          asOf,
          os.filter((o) => o.rule === 'filing'),
          `/v1/regions?asOf=${asOf}&rule=filing`,
          'filing',
        );
      },
    );

    it('a region-limited inspector sees only its regions; parameters are validated', async () => {
      const asOf = '2023-06-30';
      const os = await obligationsOn(asOf);
      await check(
        asOf,
        os.filter((o) => o.region?.startsWith('500230')),
        `/v1/regions?asOf=${asOf}`,
        undefined,
        inspector500230,
      );
      expect(os.some((o) => o.region === null)).toBe(true); // the generator's unit without a region
      for (const q of ['rule=bogus', 'region=500102', 'asOf=2021-1-1']) {
        const r = await iget(`/v1/regions?${q}`);
        expect([q, r.status, r.body.code]).toEqual([q, 400, 'REQUEST.VALIDATION_FAILED']);
      }
    });
  });

  // ---------------------------------------------------------------------------------------
  describe('GET /v1/platforms/lag', () => {
    const LAG_PLATFORM = 'gov-lag-b';
    const lagIds: string[] = [];
    /** percentile_cont: linear interpolation between the closest ranks */
    const percentile = (xs: number[], p: number) => {
      const s = [...xs].sort((a, b) => a - b);
      const i = p * (s.length - 1);
      const lo = Math.floor(i);
      return lo + 1 < s.length ? s[lo] + (s[lo + 1] - s[lo]) * (i - lo) : s[lo];
    };
    const realToday = () => businessDateOf(Date.now());
    const plusDays = (d: string, n: number) =>
      new Date(Date.parse(`${d}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);

    beforeAll(async () => {
      // another platform sends facts 1–9 hours after they happened; an inspector records an
      // exemption (no platform, stamped at the fixed clock's now: a negative lag)
      const token = await tokenFor('platform', { platformId: LAG_PLATFORM, sub: 'lag-robot' });
      const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000).toISOString();
      const events: Envelope[] = [];
      for (const [i, h] of [1, 2, 3, 5, 8, 9].entries()) {
        const id = `LAG-${i + 1}`;
        lagIds.push(id);
        const award = ev.award(id, '2026-11-02', {
          unit: UNIT_B,
          supplierCode: creditCode(600 + i),
        });
        events.push({ ...award, occurredAt: hoursAgo(h) });
        if (i < 3) events.push({ ...ev.signed(id, '2026-11-02'), occurredAt: hoursAgo(h / 2) });
      }
      const res = await fetch(`${t.url}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...bearer(token) },
        body: JSON.stringify(events),
      });
      expect(res.status).toBe(200);
      const ex = await fetch(`${t.url}/v1/contracts/DASH-A-2/exemptions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...bearer(inspector) },
        body: JSON.stringify({ rule: 'signing', reason: '突发事件' }),
      });
      expect(ex.status).toBeLessThan(300);
      await t.app.get(ProjectorDaemon).catchUp();
    });

    /** The lag rows computed from `GET /v1/contracts/{id}/events` of these contracts. */
    const expected = async (ids: string[], from: string, to: string) => {
      const groups = new Map<string, number[]>();
      for (const id of ids) {
        const r = await iget(`/v1/contracts/${id}/events`);
        expect(r.status).toBe(200);
        for (const e of r.body.events) {
          const day = businessDateOf(Date.parse(e.recordedAt));
          if (day < from || day > to) continue;
          const key = JSON.stringify([e.source.platformId ?? null, e.type]);
          if (!groups.has(key)) groups.set(key, []);
          groups.get(key)!.push((Date.parse(e.recordedAt) - Date.parse(e.occurredAt)) / 1000);
        }
      }
      return [...groups]
        .map(([key, xs]) => {
          const [platformId, type] = JSON.parse(key) as [string | null, string];
          return {
            platformId,
            type,
            events: xs.length,
            median: percentile(xs, 0.5),
            p95: percentile(xs, 0.95),
            max: Math.max(...xs),
          };
        })
        .sort(
          (a, b) =>
            (a.platformId === null ? 1 : 0) - (b.platformId === null ? 1 : 0) ||
            (a.platformId ?? '').localeCompare(b.platformId ?? '') ||
            (a.type < b.type ? -1 : a.type > b.type ? 1 : 0),
        );
    };
    const check = async (ids: string[], token = inspector) => {
      const [from, to] = [plusDays(realToday(), -1), plusDays(realToday(), 1)];
      const r = await get(`/v1/platforms/lag?from=${from}&to=${to}`, token);
      expect(r.status).toBe(200);
      expect([r.body.from, r.body.to]).toEqual([from, to]);
      const want = await expected(ids, from, to);
      expect(want.length).toBeGreaterThan(0);
      expect(
        r.body.items.map((x: { platformId: string; type: string; events: number }) => [
          x.platformId,
          x.type,
          x.events,
        ]),
      ).toEqual(want.map((w) => [w.platformId, w.type, w.events]));
      r.body.items.forEach((x: Record<string, number>, i: number) => {
        // the events answer has milliseconds, the store microseconds
        expect(Math.abs(x.medianSeconds - want[i].median)).toBeLessThan(0.005);
        expect(Math.abs(x.p95Seconds - want[i].p95)).toBeLessThan(0.005);
        expect(Math.abs(x.maxSeconds - want[i].max)).toBeLessThan(0.005);
        expect(x.medianHours).toBeCloseTo(x.medianSeconds / 3600, 2);
        expect(x.p95Hours).toBeCloseTo(x.p95Seconds / 3600, 2);
      });
      return r.body;
    };

    it('agrees with the recorded and business times of the contract histories', async () => {
      const b = await check([...contractIds, ...lagIds]);
      // the other platform's awards, sent 1, 2, 3, 5, 8 and 9 hours late: median 4 h
      const awards = b.items.find(
        (x: { platformId: string; type: string }) =>
          x.platformId === LAG_PLATFORM && x.type === 'AwardNoticeIssued',
      );
      expect(awards.events).toBe(6);
      expect(awards.medianHours).toBeGreaterThanOrEqual(4);
      expect(awards.medianHours).toBeLessThan(4.1);
      // the exemption: no platform, listed last
      expect(b.items[b.items.length - 1]).toMatchObject({
        platformId: null,
        type: 'ObligationExempted',
        events: 1,
      });
      expect(b.items[b.items.length - 1].medianSeconds).toBeLessThan(0);
    });

    it('a region-limited inspector counts only the events of contracts in its regions', async () => {
      const fengdu: string[] = [];
      for (const id of contractIds) {
        const r = await iget(`/v1/contracts/${id}?asOf=${TODAY}`);
        if (r.body.purchasingUnit?.region?.startsWith('500230')) fengdu.push(id);
      }
      expect(fengdu.length).toBeGreaterThan(0);
      const b = await check(fengdu, inspector500230);
      expect(b.items.map((x: { platformId: string }) => x.platformId)).not.toContain(LAG_PLATFORM);
    });

    it('defaults to the 30 days ending today; at most 92 days; parameters validated', async () => {
      const r = await iget('/v1/platforms/lag');
      expect(r.body).toEqual({ from: '2027-05-03', to: TODAY, items: [] });
      expect((await iget('/v1/platforms/lag?from=2024-04-01&to=2024-07-01')).status).toBe(200);
      for (const [q, code] of [
        ['from=2024-04-01&to=2024-07-02', 'REQUEST.RANGE_TOO_LONG'],
        ['from=2021-01-01', 'REQUEST.RANGE_TOO_LONG'],
        ['from=2021-05-02&to=2021-05-01', 'REQUEST.VALIDATION_FAILED'],
        ['from=2021-05', 'REQUEST.VALIDATION_FAILED'],
        ['to=2021-02-29', 'REQUEST.VALIDATION_FAILED'],
        ['asOf=2021-01-01', 'REQUEST.VALIDATION_FAILED'],
      ]) {
        const res = await iget(`/v1/platforms/lag?${q}`);
        expect([q, res.status, res.body.code]).toEqual([q, 400, code]);
      }
    });
  });

  // ---------------------------------------------------------------------------------------
  describe('GET /v1/violations as .xlsx', () => {
    const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
    const FIELDS = [
      'contractId',
      'rule',
      'key',
      'unitCode',
      'unitName',
      'region',
      'supplierCreditCode',
      'supplierName',
      'startedOn',
      'deadline',
      'fulfilledOn',
      'status',
      'delayDays',
      'delayWorkingDays',
      'provisional',
      'policy',
      'source',
    ];
    /** Every page of the JSON answer, in order. */
    const allJson = async (query: string, token = inspector) => {
      const items: Array<Record<string, unknown>> = [];
      for (let page = 1; ; page++) {
        const r = await get(`/v1/violations?${query}&page=${page}&pageSize=37`, token);
        expect(r.status).toBe(200);
        items.push(...r.body.items);
        if (r.body.items.length < 37) return items;
      }
    };
    const sheet = async (query: string, token = inspector) => {
      const r = await get(`/v1/violations?${query}`, token, { accept: XLSX });
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe(XLSX);
      expect(r.headers.get('content-disposition')).toMatch(
        /attachment; filename="violations-.*\.xlsx"/,
      );
      const wb = new ExcelJS.Workbook();
      await wb.xlsx.load(r.body);
      expect(wb.worksheets).toHaveLength(1);
      const rows: unknown[][] = [];
      wb.worksheets[0].eachRow({ includeEmpty: true }, (row) => {
        const v = row.values as unknown[];
        rows.push(FIELDS.map((_, i) => v[i + 1] ?? null));
      });
      return rows;
    };

    it.each([
      `asOf=${TODAY}`,
      'asOf=2023-06-30&unit=U-500102-001',
      'asOf=2023-06-30&rule=signing&status=overdue',
      'asOf=2023-06-30&status=late&from=2021-01-01&to=2022-12-31',
      'asOf=2021-10-20&rule=filing',
    ])('holds exactly the rows of the JSON answer (%s), with Chinese headers', async (query) => {
      const json = await allJson(query);
      expect(json.length).toBeGreaterThan(0);
      const [head, ...rows] = await sheet(query);
      expect(head[0]).toContain('合同编号');
      expect(head[4]).toContain('采购单位');
      expect(head[11]).toContain('状态');
      expect(rows).toEqual(json.map((v) => FIELDS.map((f) => v[f] ?? null)));
      // and of the CSV export
      const csv = await get(`/v1/violations?${query}`, inspector, { accept: 'text/csv' });
      expect(csv.body.toString('utf8').trim().split('\r\n')).toHaveLength(json.length + 1);
    });

    it('the whole feed has violations to export; a region-limited inspector gets only its own', async () => {
      const all = await sheet(`asOf=${TODAY}`);
      expect(all.length).toBeGreaterThan(40);
      const mine = await sheet(`asOf=${TODAY}`, inspector500230);
      const want = await allJson(`asOf=${TODAY}`, inspector500230);
      expect(want.length).toBeGreaterThan(0);
      expect(mine.slice(1)).toEqual(want.map((v) => FIELDS.map((f) => v[f] ?? null)));
      expect(new Set(mine.slice(1).map((r) => r[5]))).toEqual(new Set(['500230']));
      // with no violation: the header row only
      expect(await sheet('asOf=2000-01-01')).toHaveLength(1);
      // bad filters are refused as for JSON
      const bad = await get('/v1/violations?status=pending', inspector, { accept: XLSX });
      expect([bad.status, bad.body.code]).toEqual([400, 'REQUEST.VALIDATION_FAILED']);
    });
  });

  it('the OpenAPI document describes the routes, their parameters and the .xlsx answer', async () => {
    const doc = (await get('/docs/openapi.json')).body;
    const op = (p: string) => doc.paths[p]?.get;
    for (const [p, params] of [
      ['/v1/me', []],
      ['/v1/overview', ['asOf', 'region']],
      ['/v1/trends', ['asOf', 'from', 'to', 'region', 'unit', 'rule']],
      ['/v1/regions', ['asOf', 'rule']],
      ['/v1/platforms/lag', ['from', 'to']],
    ] as const) {
      expect([p, op(p)?.tags]).toEqual([p, ['dashboard']]);
      expect([p, (op(p).parameters ?? []).map((x: { name: string }) => x.name).sort()]).toEqual([
        p,
        [...params].sort(),
      ]);
      expect(op(p).responses['200'].content['application/json'].schema.example).toBeDefined();
    }
    expect(Object.keys(op('/v1/violations').responses['200'].content)).toContain(
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    );
  });
});
