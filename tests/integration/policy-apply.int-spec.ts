/**
 * Policy changes across application instances, on a real PostgreSQL: a change stored through
 * one instance (no projector role) is applied once by the projector leader (another
 * instance), and both answer from the applied layers in the database; a database whose
 * contracts were projected before layers existed (obligations without `policy`, nothing
 * applied) is brought up to date at the next start.
 */
import type { INestApplication } from '@nestjs/common';
import { loadConfig } from '@app/platform';
import { ProjectorDaemon } from '@app/projections';
import { createTestDatabase, ev, testPool, waitUntil, type TestDatabase } from '@app/testing';
import type { Pool } from 'pg';
import { createApp } from '../../apps/monitor/src/bootstrap';
import { auth, primeTokens, TEST_JWT_SECRET } from '../support/auth';

jest.setTimeout(120_000);

const NOW = Date.parse('2023-07-01T12:00:00+08:00');

interface Instance {
  app: INestApplication;
  url: string;
}

async function start(databaseUrl: string, projector: boolean): Promise<Instance> {
  const config = loadConfig({
    LOG_LEVEL: 'error',
    JWT_SECRET: TEST_JWT_SECRET,
    ROLE_PROJECTOR: String(projector),
    ROLE_CONSUMER: 'false',
    PROJECTOR_IDLE_MS: '50',
    DB_POOL_SIZE: '4',
    DB_READ_POOL_SIZE: '2',
    RATE_LIMIT_INGEST_PER_MIN: '1000000',
    RATE_LIMIT_QUERY_PER_MIN: '1000000',
  });
  await primeTokens();
  const app = await createApp({ config, databaseUrl, clock: { now: () => NOW } });
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1').replace('localhost', '127.0.0.1');
  return { app, url };
}

async function call(
  i: Instance,
  method: string,
  route: string,
  role: 'admin' | 'platform' | 'inspector',
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const res = await fetch(`${i.url}${route}`, {
    method,
    headers: {
      ...auth(role),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const signing = async (i: Instance, id: string) => {
  const r = await call(i, 'GET', `/v1/contracts/${id}?asOf=2023-06-30`, 'inspector');
  return r.status === 200
    ? (r.body.obligations as Array<Record<string, unknown>>).find((o) => o.rule === 'signing')
    : undefined;
};

describe('policy changes across instances (integration)', () => {
  let db: TestDatabase;
  let pool: Pool;
  const running: Instance[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('policy');
    pool = testPool(db.url, 2);
  });
  afterAll(async () => {
    for (const i of running) await i.app.close();
    await pool?.end();
    await db?.drop();
  });

  it('stored by one instance, applied once by the leader, read from the database by both', async () => {
    const leader = await start(db.url, true);
    const api = await start(db.url, false);
    running.push(leader, api);
    const bj = { code: 'U-BJ', name: '北京某局', region: '110105' };
    const r = await call(api, 'POST', '/v1/events', 'platform', [
      ev.award('PA-BJ', '2023-03-01', { unit: bj }),
      ev.award('PA-CQ', '2023-03-01'),
    ]);
    expect(r.status).toBe(200);
    await waitUntil(async () => (await signing(api, 'PA-BJ')) !== undefined, 20_000);
    expect(await signing(api, 'PA-BJ')).toMatchObject({
      deadline: '2023-03-31',
      policy: 'national',
    });

    const put = await call(api, 'PUT', '/v1/admin/policies/beijing-2023', 'admin', {
      name: '北京（测试）',
      regions: ['11'],
      from: '2023-01-01',
      rules: { signing: { period: { unit: 'calendarDays', n: 10 } } },
      source: '京财采购〔2023〕1号',
    });
    expect(put.status).toBe(200);
    await waitUntil(
      async () => (await call(api, 'GET', '/v1/policies', 'admin')).body.pending === false,
      20_000,
    );
    for (const i of [api, leader])
      expect(await signing(i, 'PA-BJ')).toMatchObject({
        deadline: '2023-03-13',
        policy: 'beijing-2023',
      });
    expect(await signing(api, 'PA-CQ')).toMatchObject({ policy: 'chongqing-2021' });
    const { rows } = await pool.query(
      'SELECT applied_version::int AS applied, version::int AS version FROM policy_state',
    );
    expect(rows[0]).toEqual({ applied: 1, version: 1 });
  });

  it('a database projected before layers existed is brought up to date at the next start', async () => {
    for (const i of running.splice(0)) await i.app.close();
    // what a database migrated from before layers holds: obligations without policy, nothing applied
    await pool.query('UPDATE rm.obligations SET policy = NULL, source = NULL');
    await pool.query(
      `UPDATE policy_state SET applied_version = NULL, applied_fingerprint = NULL, applied_layers = NULL`,
    );
    // the first apply runs beside the start, whatever the roles: listening does not wait for it
    const i = await start(db.url, false);
    running.push(i);
    await waitUntil(
      async () => (await call(i, 'GET', '/v1/policies', 'admin')).body.pending === false,
      20_000,
    );
    expect(await signing(i, 'PA-BJ')).toMatchObject({
      deadline: '2023-03-13',
      policy: 'beijing-2023',
      source: '京财采购〔2023〕1号',
    });
    expect(await signing(i, 'PA-CQ')).toMatchObject({
      policy: 'chongqing-2021',
      source: 'seed item 13; 政府采购法 art. 46',
    });
    const { rows } = await pool.query(
      'SELECT count(*)::int AS n FROM rm.obligations WHERE policy IS NULL',
    );
    expect(rows[0].n).toBe(0);
    expect(i.app.get(ProjectorDaemon).state).toBe('disabled');
  });
});
