/**
 * SPEC §8 `GET /v1/deadlines`: open obligations due within N working days, soonest first,
 * with daysLeft and workingDaysLeft by the official calendar (National Day 2021 and its
 * make-up Saturday 10-09), scoped like every inspector read, as the clock moves on.
 */
import { creditCode, ev, type Envelope } from '@app/testing';
import { auth, bearer, tokenFor } from '../support/auth';
import { catchUpToHead } from '../support/catch-up';
import { startTestApp, type TestApp } from '../support/test-app';

const UNIT_X = { code: 'U-DL-X', name: '涪陵区教育委员会', region: '500102' };
const UNIT_Y = { code: 'U-DL-Y', name: '丰都县卫生健康委员会', region: '500230' };

describe('GET /v1/deadlines (e2e)', () => {
  let t: TestApp;
  let now = Date.parse('2021-09-29T12:00:00+08:00'); // a Wednesday
  const get = async (path: string, headers: Record<string, string> = auth('inspector')) => {
    const res = await fetch(`${t.url}${path}`, { headers });
    return { status: res.status, body: (await res.json()) as any };
  };
  const send = async (events: Envelope[]) => {
    const res = await fetch(`${t.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth('platform') },
      body: JSON.stringify(events),
    });
    const body = (await res.json()) as { results: Array<{ status: string }> };
    expect(body.results.filter((r) => r.status !== 'accepted')).toEqual([]);
    await catchUpToHead(t.app);
  };
  const brief = (items: Array<Record<string, string | number>>) =>
    items.map((i) => `${i.contractId} ${i.key} ${i.deadline} ${i.daysLeft}/${i.workingDaysLeft}`);

  beforeAll(async () => {
    t = await startTestApp({ clock: { now: () => now } });
    await send([
      // A: signed 09-28 → announcement 09-30 (2 wd), filing 10-13 (7 wd: 10-09 is worked)
      ev.award('DL-A', '2021-09-13', { unit: UNIT_X, supplierCode: creditCode(501) }),
      ev.signed('DL-A', '2021-09-28'),
      // B (region Y): award 09-20 → signing 20 days = 10-10, a Sunday → 10-11
      ev.award('DL-B', '2021-09-20', {
        unit: UNIT_Y,
        supplierCode: creditCode(502),
        size: 'large',
      }),
      // C: signed 09-27 and announced: only filing is open, 10-12
      ev.award('DL-C', '2021-09-10', { unit: UNIT_X }),
      ev.signed('DL-C', '2021-09-27'),
      ev.announced('DL-C', '2021-09-28'),
      // D: signed 09-01: announcement and filing overdue, never "upcoming"
      ev.award('DL-D', '2021-08-20', { unit: UNIT_X }),
      ev.signed('DL-D', '2021-09-01'),
      // E: award 09-22, its signing exempted below
      ev.award('DL-E', '2021-09-22', { unit: UNIT_X }),
    ]);
    const ex = await fetch(`${t.url}/v1/contracts/DL-E/exemptions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth('inspector') },
      body: JSON.stringify({ rule: 'signing', reason: '不可预见的紧急采购' }),
    });
    expect(ex.status).toBe(201);
    await catchUpToHead(t.app);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('default within=3: the announcement due tomorrow, with the answer shape', async () => {
    const r = await get('/v1/deadlines');
    expect(r.status).toBe(200);
    // 3 working days after 09-29: 09-30, 10-08, 10-09 (make-up Saturday); Sunday 10-10 adds none
    expect(r.body).toMatchObject({
      asOf: '2021-09-29',
      within: 3,
      until: '2021-10-10',
      page: 1,
      pageSize: 50,
      hasMore: false,
    });
    expect(r.body.items).toEqual([
      {
        contractId: 'DL-A',
        rule: 'announcement',
        key: 'announcement',
        policy: expect.any(String),
        source: expect.any(String),
        startedOn: '2021-09-28',
        deadline: '2021-09-30',
        daysLeft: 1,
        workingDaysLeft: 1,
        unit: UNIT_X,
        supplier: { creditCode: creditCode(501), name: '重庆某某科技有限公司', sme: true },
        provisional: false,
      },
    ]);
  });

  it('within=6, soonest first, working days by the official calendar (not Monday–Friday)', async () => {
    const r = await get('/v1/deadlines?within=6');
    expect(r.status).toBe(200);
    expect(r.body.until).toBe('2021-10-13');
    expect(brief(r.body.items)).toEqual([
      'DL-A announcement 2021-09-30 1/1',
      'DL-B signing 2021-10-11 12/4',
      'DL-C filing 2021-10-12 13/5',
      'DL-A filing 2021-10-13 14/6',
    ]);
    expect(r.body.items[1].supplier.sme).toBe(false);
    // within=5 stops at 10-12: A's filing (6 working days left) is out
    const five = await get('/v1/deadlines?within=5');
    expect(brief(five.body.items).map((s) => s.split(' ').slice(0, 2).join(' '))).toEqual([
      'DL-A announcement',
      'DL-B signing',
      'DL-C filing',
    ]);
    // within=0: due today only (nothing)
    expect((await get('/v1/deadlines?within=0')).body).toMatchObject({
      until: '2021-09-29',
      items: [],
    });
  });

  it('filters: unit, region prefix, rule; paging like /v1/violations', async () => {
    const keys = async (qs: string) =>
      brief((await get(`/v1/deadlines?within=6&${qs}`)).body.items).map((s) =>
        s.split(' ').slice(0, 2).join(' '),
      );
    expect(await keys(`unit=${UNIT_Y.code}`)).toEqual(['DL-B signing']);
    expect(await keys('region=50010')).toEqual(['DL-A announcement', 'DL-C filing', 'DL-A filing']);
    expect(await keys('rule=filing')).toEqual(['DL-C filing', 'DL-A filing']);
    expect(await keys('rule=filing&unit=U-NONE')).toEqual([]);
    const p2 = await get('/v1/deadlines?within=6&pageSize=1&page=2');
    expect(p2.body).toMatchObject({ page: 2, pageSize: 1, hasMore: true });
    expect(brief(p2.body.items)).toEqual(['DL-B signing 2021-10-11 12/4']);
    const p4 = await get('/v1/deadlines?within=6&pageSize=1&page=4');
    expect(p4.body.hasMore).toBe(false);
    expect(p4.body.items).toHaveLength(1);
  });

  it('a region-limited inspector sees only its regions', async () => {
    const y = bearer(await tokenFor('inspector', { regions: ['500230'], sub: 'inspector-y' }));
    const r = await get('/v1/deadlines?within=6', y);
    expect(brief(r.body.items)).toEqual(['DL-B signing 2021-10-11 12/4']);
    // a region filter outside the scope finds nothing rather than widening it
    expect((await get('/v1/deadlines?within=6&region=500102', y)).body.items).toEqual([]);
  });

  it('bad parameters: 400 REQUEST.VALIDATION_FAILED, never 5xx', async () => {
    for (const qs of [
      'within=31',
      'within=-1',
      'within=x',
      'page=0',
      'pageSize=501',
      'rule=nope',
      'asOf=2021-09-01',
      'unit=%00',
    ]) {
      const r = await get(`/v1/deadlines?${qs}`);
      expect({ qs, status: r.status, code: r.body.code }).toEqual({
        qs,
        status: 400,
        code: expect.stringMatching(/^REQUEST\.(VALIDATION_FAILED|INVALID_ENCODING)$/),
      });
    }
  });

  it('the same open obligations as the date moves on: after National Day', async () => {
    now = Date.parse('2021-10-08T09:00:00+08:00');
    const r = await get('/v1/deadlines?within=3');
    // 09-30 has passed (A's announcement is overdue now); 10-09, 10-11, 10-12 are the 3 working days
    expect(r.body.until).toBe('2021-10-12');
    expect(brief(r.body.items)).toEqual([
      'DL-B signing 2021-10-11 3/2',
      'DL-C filing 2021-10-12 4/3',
    ]);
    now = Date.parse('2021-10-13T09:00:00+08:00');
    expect(brief((await get('/v1/deadlines?within=0')).body.items)).toEqual([
      'DL-A filing 2021-10-13 0/0',
    ]);
    // fulfilled: gone
    await send([ev.filed('DL-A', '2021-10-13T08:30:00+08:00')]);
    expect((await get('/v1/deadlines?within=0')).body.items).toEqual([]);
  });
});
