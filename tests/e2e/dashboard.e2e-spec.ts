/**
 * The dashboard's read APIs (SPEC §9, issue #14 item 6) on the real application: `/v1/me`,
 * `/v1/overview`, `/v1/trends`, `/v1/regions`, `/v1/platforms/lag` and the violations' .xlsx
 * export. Every figure is checked against the per-contract answers of `GET /v1/contracts/{id}`
 * (and `/events`) for the same feed: generated histories of four units plus hand-made
 * contracts in three regions.
 */
import { rateDown } from '@app/domain';
import { ComplianceProjector, PROJECTION_NAME, ProjectorDaemon } from '@app/projections';
import { creditCode, ev, sampleHistories, type Envelope } from '@app/testing';
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
  async function obligationsOn(asOf: string): Promise<Obligation[]> {
    const hit = answers.get(asOf);
    if (hit) return hit;
    const all: Obligation[] = [];
    for (const id of contractIds) {
      const r = await iget(`/v1/contracts/${id}?asOf=${asOf}`);
      expect(r.status).toBe(200);
      // the summaries count the obligations of contracts with a purchasing unit (SPEC §4 units)
      if (!r.body.purchasingUnit?.code) continue;
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
    const check = async (asOf: string, os: Obligation[], path: string, token = inspector) => {
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
      expect(b.smeLateInterest).toBeNull();
      return b;
    };

    it.each(AS_OFS)('agrees with the contract answers as of %s', async (asOf) => {
      const os = await obligationsOn(asOf);
      expect(os.length).toBeGreaterThan(0);
      const b = await check(asOf, os, `/v1/overview?asOf=${asOf}`);
      expect(b.region).toBeNull();
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
      const asOf = '2023-06-30';
      const os = await obligationsOn(asOf);
      const in500102 = os.filter((o) => o.region?.startsWith('500102'));
      expect(in500102.length).toBeGreaterThan(0);
      const b = await check(asOf, in500102, `/v1/overview?asOf=${asOf}&region=500102`);
      expect(b.region).toBe('500102');
      const fengdu = os.filter((o) => o.region?.startsWith('500230'));
      expect(fengdu.length).toBeGreaterThan(0);
      await check(asOf, fengdu, `/v1/overview?asOf=${asOf}`, inspector500230);
      // asking for another region does not widen the scope
      await check(asOf, [], `/v1/overview?asOf=${asOf}&region=500102`, inspector500230);
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
});
