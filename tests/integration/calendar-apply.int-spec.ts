/**
 * Calendar uploads, the projector daemon and rebuilds across application instances, on a real
 * PostgreSQL (several instances of the real application on one database):
 *  (1) an upload reaches every stored contract, once, durably: whichever instance takes it,
 *      whoever reads the calendar right after, across a rebuild on an instance booted before
 *      it and a restart: every stored contract has the deadlines a fresh one with the same
 *      facts gets;
 *  (2) an apply that fails rolls back and is retried on a later projector tick;
 *  (3) a changed package calendar (built-in data) is detected at the next start and applied;
 *  (a–c) the daemon: out of its error state within ~1 s of the database coming back, /health
 *      showing error and lag; `behind` (not `caught-up`) while gap safety holds it back; a
 *      lost lock connection noticed, exactly one leader again;
 * and a rebuild killed mid-way shows `failed` at the next start, its leftovers gone.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { builtInYears } from '@app/calendar';
import { PgEventStore, withTransaction, type NewEvent } from '@app/event-store';
import { loadConfig } from '@app/platform';
import { PROJECTION_NAME, ProjectorDaemon } from '@app/projections';
import {
  createTestDatabase,
  ev,
  testPool,
  waitUntil,
  type Envelope,
  type TestDatabase,
} from '@app/testing';
import type { Pool, PoolClient } from 'pg';
import { createApp } from '../../apps/monitor/src/bootstrap';
import { DbProxy } from '../support/processes';
import { auth, primeTokens, TEST_JWT_SECRET } from '../support/auth';

jest.setTimeout(180_000);

const ROOT = path.resolve(__dirname, '../..');
const NOW = Date.parse('2027-06-01T12:00:00+08:00');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const LEADING = ['running', 'caught-up', 'behind'];

interface Instance {
  name: string;
  app: INestApplication;
  url: string;
  daemon: ProjectorDaemon;
  close(): Promise<void>;
}

async function startInstance(
  name: string,
  databaseUrl: string,
  env: Record<string, string> = {},
): Promise<Instance> {
  const config = loadConfig({
    LOG_LEVEL: 'error',
    JWT_SECRET: TEST_JWT_SECRET,
    ROLE_PROJECTOR: 'true',
    ROLE_CONSUMER: 'false',
    PROJECTOR_IDLE_MS: '50',
    DB_POOL_SIZE: '5',
    DB_READ_POOL_SIZE: '2',
    RATE_LIMIT_INGEST_PER_MIN: '1000000',
    RATE_LIMIT_QUERY_PER_MIN: '1000000',
    ...env,
  });
  await primeTokens();
  const app = await createApp({ config, databaseUrl, clock: { now: () => NOW } });
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1').replace('localhost', '127.0.0.1');
  return { name, app, url, daemon: app.get(ProjectorDaemon), close: () => app.close() };
}

async function call(
  i: Instance,
  method: string,
  route: string,
  role: 'admin' | 'platform' | 'inspector' | null,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const res = await fetch(`${i.url}${route}`, {
    method,
    headers: {
      ...(role ? auth(role) : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function send(i: Instance, events: Envelope[]): Promise<void> {
  for (let k = 0; k < events.length; k += 1000) {
    const r = await call(i, 'POST', '/v1/events', 'platform', events.slice(k, k + 1000));
    expect(r.status).toBe(200);
    expect(r.body.results.filter((x: { status: string }) => x.status !== 'accepted')).toEqual([]);
  }
}

/** Waits until the store is projected to its head and every contract named is there. */
async function projected(i: Instance, ids: string[], timeoutMs = 30_000): Promise<void> {
  await waitUntil(
    async () => {
      const p = await call(i, 'GET', '/v1/admin/projections', 'admin');
      if (p.status !== 200 || p.body.projections[0].behind !== 0) return false;
      for (const id of ids)
        if ((await call(i, 'GET', `/v1/contracts/${id}`, 'inspector')).status !== 200) return false;
      return true;
    },
    timeoutMs,
    async () => JSON.stringify((await call(i, 'GET', '/v1/admin/projections', 'admin')).body),
    50,
  );
}

type Deadlines = Record<string, { deadline: string; provisional: boolean }>;

async function deadlines(i: Instance, id: string): Promise<Deadlines> {
  const r = await call(i, 'GET', `/v1/contracts/${id}?asOf=2027-01-02`, 'inspector');
  expect([id, r.status]).toEqual([id, 200]);
  return Object.fromEntries(
    (r.body.obligations as Array<{ key: string; deadline: string; provisional: boolean }>).map(
      (o) => [o.key, { deadline: o.deadline, provisional: o.provisional }],
    ),
  );
}

const isLeading = (i: Instance) => LEADING.includes(i.daemon.state);

/** Waits until exactly one of the instances leads and the others stand by. */
async function oneLeader(instances: Instance[], timeoutMs = 15_000): Promise<Instance> {
  await waitUntil(
    () =>
      instances.filter(isLeading).length === 1 &&
      instances.filter((i) => i.daemon.state === 'standby').length === instances.length - 1,
    timeoutMs,
    () => instances.map((i) => `${i.name}: ${i.daemon.state}`).join(', '),
    50,
  );
  return instances.find(isLeading)!;
}

/** Facts whose announcement and filing deadlines fall in the first days of 2027. */
const lateDecember = (id: string) => [ev.award(id, '2026-12-29'), ev.signed(id, '2026-12-30')];

/** Appends one event (a new stream) straight to the store, in the caller's transaction. */
async function appendDirectly(pool: Pool, e: Envelope, inTx?: PoolClient): Promise<void> {
  const event: NewEvent = { ...e, streamId: e.contractId, metadata: { source: { kind: 'http' } } };
  const append = (c: PoolClient) =>
    new PgEventStore(pool).append(c, [
      { streamId: e.contractId, expectedVersion: 0, events: [event] },
    ]);
  await (inTx ? append(inTx) : withTransaction(pool, append));
}

async function businessDay(pool: Pool, day: string): Promise<boolean> {
  const { rows } = await pool.query<{ w: boolean }>(
    'SELECT is_working AS w FROM business_days WHERE day = $1',
    [day],
  );
  return rows[0].w;
}

describe('calendar uploads across instances', () => {
  let db: TestDatabase;
  let pool: Pool;
  const running: Instance[] = [];
  let seq = 0;
  /** a fresh contract with the facts of `lateDecember` (the oracle of every check) */
  const twin = () => `TWIN-${++seq}`;

  const start = async (name: string) => {
    const i = await startInstance(name, db.url);
    running.push(i);
    return i;
  };
  const stop = async (i: Instance) => {
    running.splice(running.indexOf(i), 1);
    await i.close();
  };
  /** Every contract in `ids` has exactly the deadlines of a fresh contract sent now. */
  const expectLikeFresh = async (via: Instance, ids: string[]): Promise<Deadlines> => {
    const fresh = twin();
    await send(via, lateDecember(fresh));
    await projected(via, [fresh, ...ids]);
    const expected = await deadlines(via, fresh);
    for (const id of ids) expect([id, await deadlines(via, id)]).toEqual([id, expected]);
    return expected;
  };

  beforeAll(async () => {
    db = await createTestDatabase('calapply');
    pool = testPool(db.url, 4);
    // an idle connection ended by the server (DROP DATABASE … FORCE while it closes)
    pool.on('error', () => undefined);
  });
  afterAll(async () => {
    for (const i of [...running]) await i.close();
    await pool.end();
    await db.drop();
  });

  it('(1) upload on the leader, read at once, rebuild on an instance booted before it, restart: stored = fresh', async () => {
    const a = await start('a');
    await oneLeader([a]);
    const b = await start('b');
    expect(await oneLeader([a, b])).toBe(a);

    await send(b, lateDecember('CAL-1'));
    await projected(a, ['CAL-1']);
    // 2027 is not in the package data: weekends only, provisional
    expect((await deadlines(a, 'CAL-1')).filing).toEqual({
      deadline: '2027-01-08',
      provisional: true,
    });

    const put = await call(a, 'PUT', '/v1/admin/calendar/2027', 'admin', {
      restDays: ['2027-01-01', '2027-01-04', '2027-01-05'],
      workingDays: ['2027-01-09'],
      source: 'test notice 1',
    });
    expect(put.status).toBe(200);
    // read at once on the leader: a read must not consume the change
    const read = await call(a, 'GET', '/v1/admin/calendar', 'admin');
    expect(read.status).toBe(200);
    expect(read.body.officialYears).toContain(2027);
    const expected = await expectLikeFresh(b, ['CAL-1']);
    // 12-31, 01-06, 01-07, 01-08, 01-09 (make-up Saturday), 01-11, 01-12
    expect(expected.filing).toEqual({ deadline: '2027-01-12', provisional: false });
    expect(await businessDay(pool, '2027-01-04')).toBe(false);
    expect(await businessDay(pool, '2027-01-09')).toBe(true);

    // a rebuild on b, which stands by and booted before the upload
    const r = await call(
      b,
      'POST',
      `/v1/admin/projections/${PROJECTION_NAME}/rebuild?wait=true`,
      'admin',
    );
    expect(r.body.state).toBe('done');
    expect(await expectLikeFresh(a, ['CAL-1', 'TWIN-1'])).toEqual(expected);

    // restart: a stops, b takes over, a comes back
    await stop(a);
    expect(await oneLeader([b])).toBe(b);
    const a2 = await start('a2');
    expect(await oneLeader([a2, b])).toBe(b);
    // a second upload, through the instance that stands by, read at once on both
    const put2 = await call(a2, 'PUT', '/v1/admin/calendar/2027', 'admin', {
      restDays: ['2027-01-01', '2027-01-04', '2027-01-05', '2027-01-06'],
      workingDays: ['2027-01-09'],
      source: 'test notice 2',
    });
    expect(put2.status).toBe(200);
    for (const i of [b, a2])
      expect((await call(i, 'GET', '/v1/admin/calendar', 'admin')).body.officialYears).toContain(
        2027,
      );
    const expected2 = await expectLikeFresh(a2, ['CAL-1', 'TWIN-1', 'TWIN-2']);
    // 12-31, 01-07, 01-08, 01-09, 01-11, 01-12, 01-13
    expect(expected2.filing).toEqual({ deadline: '2027-01-13', provisional: false });
    // and a rebuild on the instance that stands by again
    const r2 = await call(
      a2,
      'POST',
      `/v1/admin/projections/${PROJECTION_NAME}/rebuild?wait=true`,
      'admin',
    );
    expect(r2.body.state).toBe('done');
    expect(await expectLikeFresh(b, ['CAL-1', 'TWIN-1', 'TWIN-2', 'TWIN-3'])).toEqual(expected2);
  });

  it('(2) an apply that fails rolls back, and a later tick applies it', async () => {
    const leader = await oneLeader(running);
    // the apply waits on this lock (it reads and rewrites business_days); its connection is
    // then killed
    const blocker = await pool.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE business_days IN ACCESS EXCLUSIVE MODE');
      const put = await call(leader, 'PUT', '/v1/admin/calendar/2027', 'admin', {
        restDays: ['2027-01-01', '2027-01-04', '2027-01-05', '2027-01-06', '2027-01-07'],
        workingDays: ['2027-01-09'],
        source: 'test notice 3',
      });
      expect(put.status).toBe(200);
      let pid = 0;
      await waitUntil(
        async () => {
          // (not on the blocker: inside a transaction pg_stat_activity is a snapshot)
          const { rows } = await pool.query<{ pid: number }>(
            `SELECT pid FROM pg_stat_activity WHERE datname = current_database()
                AND application_name = 'compliance-monitor' AND wait_event_type = 'Lock'
                AND query LIKE '%business_days%'`,
          );
          pid = rows[0]?.pid ?? 0;
          return pid !== 0;
        },
        15_000,
        () => 'no apply waiting on business_days',
        20,
      );
      await blocker.query('SELECT pg_terminate_backend($1)', [pid]);
      await waitUntil(
        () => leader.daemon.lastError !== null,
        5000,
        () => leader.daemon.state,
        10,
      );
    } finally {
      await blocker.query('ROLLBACK');
      blocker.release();
    }
    // nothing half-applied, and no contract sent afterwards is needed to trigger the retry
    await waitUntil(
      async () => (await deadlines(leader, 'CAL-1')).filing.deadline === '2027-01-14',
      10_000,
      async () => JSON.stringify((await deadlines(leader, 'CAL-1')).filing),
      50,
    );
    expect(await businessDay(pool, '2027-01-07')).toBe(false);
    // 12-31, 01-08, 01-09, 01-11, 01-12, 01-13, 01-14
    expect((await expectLikeFresh(leader, ['CAL-1', 'TWIN-1'])).filing).toEqual({
      deadline: '2027-01-14',
      provisional: false,
    });
  });

  it('(3) a changed package calendar is detected and applied at the next start', async () => {
    // 2026-10-09 (Friday) as a rest day: what an older package might have said
    const CONTRACT = 'PKG-1';
    await send(running[0], [ev.award(CONTRACT, '2026-09-28'), ev.signed(CONTRACT, '2026-09-29')]);
    await projected(running[0], [CONTRACT]);
    const right = await deadlines(running[0], CONTRACT);
    const state = await pool.query<{ years: Array<{ year: number; restDays: string[] }> }>(
      'SELECT applied_calendar AS years FROM calendar_state',
    );
    const older = state.rows[0].years.map((y) =>
      y.year === 2026 ? { ...y, restDays: [...y.restDays, '2026-10-09'].sort() } : y,
    );
    for (const i of [...running]) await stop(i);
    // the database as an instance with that package left it
    await pool.query(
      `UPDATE calendar_state SET applied_calendar = $1::jsonb, applied_fingerprint = 'older-package'`,
      [JSON.stringify(older)],
    );
    await pool.query(`UPDATE business_days SET is_working = false WHERE day = '2026-10-09'`);
    await pool.query(
      `UPDATE rm.obligations SET deadline = deadline + 1 WHERE contract_id = $1 AND rule = 'filing'`,
      [CONTRACT],
    );
    const c = await start('c');
    await oneLeader([c]);
    await waitUntil(
      async () => businessDay(pool, '2026-10-09'),
      10_000,
      () => 'not repaired',
      50,
    );
    await projected(c, [CONTRACT]);
    expect(await deadlines(c, CONTRACT)).toEqual(right);
    expect(builtInYears().find((y) => y.year === 2026)!.restDays).not.toContain('2026-10-09');
  });
});

describe('projector daemon: outage, gap-held lag, lost lock', () => {
  let db: TestDatabase;
  let pool: Pool;
  let proxy: DbProxy;
  const running: Instance[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('daemon');
    pool = testPool(db.url, 4);
    pool.on('error', () => undefined);
    proxy = new DbProxy(Number(new URL(db.url).port));
    await proxy.start();
  });
  afterAll(async () => {
    for (const i of running) await i.close();
    await proxy.stop();
    await pool.end();
    await db.drop();
  });

  const health = async (i: Instance) => call(i, 'GET', '/health', null);
  /** Gap safety is cluster-wide: other suites' open transactions may hold it back a while. */
  const caughtUp = (i: Instance) =>
    waitUntil(
      () => i.daemon.state === 'caught-up',
      30_000,
      () => i.daemon.state,
      10,
    );

  it('(a) leaves its error state within ~1 s of the database coming back; /health shows error and lag', async () => {
    const p = await startInstance('p', proxy.urlFor(db.url));
    running.push(p);
    await oneLeader([p]);
    await send(p, [ev.award('OUT-1', '2026-11-02')]);
    await projected(p, ['OUT-1']);
    await caughtUp(p);
    expect((await health(p)).body.projector).toMatchObject({ state: 'caught-up', behind: 0 });

    await proxy.stop();
    await waitUntil(
      () => p.daemon.state === 'error',
      10_000,
      () => p.daemon.state,
      20,
    );
    const during = await health(p);
    expect(during.status).toBe(503);
    expect(during.body.projector.state).toBe('error');
    expect(typeof during.body.projector.lastErrorAt).toBe('string');
    expect(typeof during.body.projector.behind).toBe('number');
    await sleep(8000); // long enough for an uncapped doubling backoff to reach several seconds
    // an event stored meanwhile (by an instance that still reaches the database)
    await appendDirectly(pool, ev.award('OUT-2', '2026-11-02'));
    await proxy.restart();
    const upAt = Date.now();
    await waitUntil(
      () => p.daemon.state !== 'error',
      10_000,
      () => p.daemon.state,
      10,
    );
    expect(Date.now() - upAt).toBeLessThan(2000);
    await waitUntil(async () => (await health(p)).status === 200, 5000);
    await caughtUp(p);
    expect((await health(p)).body.projector).toMatchObject({
      state: 'caught-up',
      behind: 0,
      lastErrorAt: null,
    });
    await projected(p, ['OUT-2']);
  });

  it('(b) reports behind, not caught-up, while an open older transaction holds it back', async () => {
    const p = running[0];
    const slow = await pool.connect();
    try {
      await slow.query('BEGIN');
      await appendDirectly(pool, ev.award('GAP-SLOW', '2026-11-03'), slow);
      // a later transaction commits: stored, counted, not yet readable (gap safety)
      await send(p, [ev.award('GAP-FAST', '2026-11-03')]);
      await waitUntil(
        () => p.daemon.state === 'behind',
        5000,
        () => p.daemon.state,
        10,
      );
      for (let k = 0; k < 10; k++) {
        expect(p.daemon.state).toBe('behind');
        const h = await health(p);
        expect(h.body.projector.state).toBe('behind');
        expect(h.body.projector.behind).toBeGreaterThanOrEqual(1);
        await sleep(100);
      }
      await slow.query('COMMIT');
    } catch (err) {
      await slow.query('ROLLBACK');
      throw err;
    } finally {
      slow.release();
    }
    await projected(p, ['GAP-SLOW', 'GAP-FAST']);
    await caughtUp(p);
    expect((await health(p)).body.projector).toMatchObject({ state: 'caught-up', behind: 0 });
  });

  it('(c) a leader whose lock connection died notices, stops, and one instance leads again', async () => {
    const q = await startInstance('q', db.url);
    running.push(q);
    const before = await oneLeader(running);
    const lockHolders = async () =>
      (
        await pool.query<{ pid: number }>(
          `SELECT pid FROM pg_locks
            WHERE locktype = 'advisory' AND granted AND objsubid = 1
              AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND objid = (hashtext($1)::bigint & 4294967295)::oid`,
          [`projection:${PROJECTION_NAME}`],
        )
      ).rows.map((r) => r.pid);
    const [old] = await lockHolders();
    expect(old).toBeDefined();
    await pool.query('SELECT pg_terminate_backend($1)', [old]);
    await waitUntil(
      async () => {
        const holders = await lockHolders();
        return holders.length === 1 && holders[0] !== old;
      },
      10_000,
      async () => JSON.stringify(await lockHolders()),
      50,
    );
    // exactly one instance believes it leads, and stays so
    const after = await oneLeader(running, 10_000);
    for (let k = 0; k < 10; k++) {
      expect(running.filter(isLeading)).toEqual([after]);
      await sleep(100);
    }
    await send(before, [ev.award('LOCK-1', '2026-11-04')]);
    await projected(after, ['LOCK-1']);
  });
});

describe('rebuild killed mid-way', () => {
  let db: TestDatabase;
  let pool: Pool;
  let i: Instance | undefined;

  beforeAll(async () => {
    db = await createTestDatabase('rbkill');
    pool = testPool(db.url, 4);
    pool.on('error', () => undefined);
  });
  afterAll(async () => {
    await i?.close();
    await pool.end();
    await db.drop();
  });

  it('shows failed at the next start and its leftovers are cleaned', async () => {
    i = await startInstance('seed', db.url);
    const ids = Array.from({ length: 300 }, (_, k) => `RB-${k}`);
    await send(
      i,
      ids.flatMap((id) => lateDecember(id)),
    );
    await projected(i, [ids[0], ids[ids.length - 1]]);
    await i.close();
    i = undefined;

    // the operator command, as a real process, killed while it rebuilds
    const child = spawn(
      process.execPath,
      ['-r', '@swc-node/register', 'apps/monitor/src/cli.ts', 'rebuild'],
      {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          DATABASE_URL: db.url,
          JWT_SECRET: TEST_JWT_SECRET,
          PROJECTOR_BATCH_SIZE: '1',
        },
        stdio: 'ignore',
      },
    );
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    await waitUntil(
      // some contracts are in the new schema (a catch-up pass moves the rebuild's checkpoint
      // only with its last chunk: the checkpoint does not show a rebuild under way)
      async () => {
        try {
          const { rows } = await pool.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM rm_build.contracts`,
          );
          return rows[0].n > 0;
        } catch (err) {
          if ((err as { code?: string }).code === '42P01') return false; // not created yet
          throw err;
        }
      },
      60_000,
      () => 'the rebuild never started',
      20,
    );
    child.kill('SIGKILL');
    await exited;
    const leftovers = async () =>
      (
        await pool.query<{ n: number }>(
          `SELECT (SELECT count(*) FROM pg_namespace WHERE nspname = 'rm_build')::int
                + (SELECT count(*) FROM projection_checkpoints WHERE name = $1)::int AS n`,
          [`${PROJECTION_NAME}@rebuild`],
        )
      ).rows[0].n;
    expect(await leftovers()).toBeGreaterThan(0);

    i = await startInstance('next', db.url);
    const p = (await call(i, 'GET', '/v1/admin/projections', 'admin')).body.projections[0];
    expect(p.rebuild).toMatchObject({
      state: 'failed',
      error: expect.stringMatching(/interrupted/),
    });
    expect(p.rebuild.startedAt).toEqual(expect.any(String));
    expect(await leftovers()).toBe(0);
    // and the next rebuild works
    const r = await call(
      i,
      'POST',
      `/v1/admin/projections/${PROJECTION_NAME}/rebuild?wait=true`,
      'admin',
    );
    expect(r.body.state).toBe('done');
    expect(
      (await call(i, 'GET', '/v1/admin/projections', 'admin')).body.projections[0].rebuild,
    ).toMatchObject({ state: 'done', error: null });
    expect(await leftovers()).toBe(0);
  });
});
