import { ProjectorDaemon } from '@app/projections';
import { ev, type Envelope } from '@app/testing';
import { startTestApp, type TestApp } from '../support/test-app';
import { authFor } from '../support/auth';

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
});
