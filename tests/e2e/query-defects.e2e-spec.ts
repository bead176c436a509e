import { ProjectorDaemon } from '@app/projections';
import { ev, type Envelope } from '@app/testing';
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
    await t.app.get(ProjectorDaemon).catchUp();
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
});
