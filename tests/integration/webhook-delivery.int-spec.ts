/**
 * SPEC §8 "each due exactly once per (obligation, event kind) whatever crashes or restarts
 * happen": the service as a real process killed with SIGKILL between decision and delivery,
 * and between a delivery's acknowledgement and its record; two instances on one database;
 * PostgreSQL unreachable mid-delivery. A real HTTP receiver on the loopback counts what
 * arrives, by X-Delivery-Id.
 */
import { createTestDatabase, creditCode, ev, type Envelope, type TestDatabase } from '@app/testing';
import { Client } from 'pg';
import { bearer, TEST_JWT_SECRET, tokenFor } from '../support/auth';
import {
  DbProxy,
  spawnService,
  startInProcessApp,
  type ChildService,
  type InProcessApp,
} from '../support/processes';
import { signatureValid, until, WebhookReceiver } from '../support/webhook-receiver';

jest.setTimeout(300_000);

const ENV = {
  JWT_SECRET: TEST_JWT_SECRET,
  ROLE_PROJECTOR: 'true',
  PROJECTOR_IDLE_MS: '50',
  WEBHOOK_POLL_MS: '50',
  WEBHOOK_TIMEOUT_MS: '1000', // lease 7 s
  WEBHOOK_RETRY_BASE_MS: '100',
  WEBHOOK_RETRY_MAX_MS: '500',
  RATE_LIMIT_INGEST_PER_MIN: '1000000',
  RATE_LIMIT_QUERY_PER_MIN: '1000000',
};

/** Contracts signed a minute ago in `unit`: each announcement is due within 2 working days. */
function signedNow(prefix: string, n: number, unitCode: string): Envelope[] {
  const now = new Date(Date.now() - 60_000).toISOString();
  const award = new Date(Date.now() - 5 * 86_400_000).toISOString();
  const unit = { code: unitCode, name: `单位 ${unitCode}`, region: '500102' };
  return Array.from({ length: n }, (_, i) => [
    ev.award(`${prefix}-${i}`, award, { unit, supplierCode: creditCode(700 + i) }),
    ev.signed(`${prefix}-${i}`, now),
  ]).flat();
}

describe('webhook delivery: crashes, two instances, database outage', () => {
  let db: TestDatabase;
  let sql: Client;
  const receiver = new WebhookReceiver();
  let base = '';
  const children: ChildService[] = [];
  let admin = '';
  let platform = '';

  const http = async (url: string, method: string, path: string, token: string, body?: unknown) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...bearer(token) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  const subscribe = async (url: string, path: string, unitCode: string) => {
    const r = await http(url, 'POST', '/v1/admin/webhooks', admin, {
      url: `${base}${path}`,
      events: ['obligation.due_soon'],
      unit: unitCode,
    });
    expect(r.status).toBe(201);
    return r.body as { id: string; secret: string };
  };
  const ingest = async (url: string, events: Envelope[]) => {
    const r = await http(url, 'POST', '/v1/events', platform, events);
    expect(r.body.results.filter((x: { status: string }) => x.status !== 'accepted')).toEqual([]);
  };
  const deliveries = async (subscriptionId: string) =>
    (
      await sql.query<{ id: string; status: string; attempts: number }>(
        'SELECT id, status, attempts FROM webhook_deliveries WHERE subscription_id = $1 ORDER BY id',
        [subscriptionId],
      )
    ).rows;
  const spawn = async (env: Record<string, string>) => {
    const c = spawnService(db.url, { ...ENV, ...env });
    children.push(c);
    return { c, url: await c.ready };
  };
  const kill = async (c: ChildService) => {
    c.proc.kill('SIGKILL');
    await c.exited;
  };

  beforeAll(async () => {
    db = await createTestDatabase('wh_kill');
    sql = new Client({ connectionString: db.url });
    await sql.connect();
    base = await receiver.start();
    admin = await tokenFor('admin');
    platform = await tokenFor('platform');
  });
  afterAll(async () => {
    for (const c of children)
      if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
    await Promise.all(children.map((c) => c.exited));
    await sql?.end();
    await receiver.stop();
    await db?.drop();
  });

  it('SIGKILL between decision and delivery: a new process sends every decided delivery once', async () => {
    // the first process decides (projector) but does not send (no notifier role)
    const first = await spawn({ ROLE_NOTIFIER: 'false' });
    const sub = await subscribe(first.url, '/k1', 'U-K1');
    await ingest(first.url, signedNow('K1', 30, 'U-K1'));
    await until(
      () => deliveries(sub.id),
      (d) => d.length === 30,
      60_000,
      '30 decided',
    );
    await kill(first.c);
    expect(receiver.at('/k1')).toEqual([]);
    expect((await deliveries(sub.id)).every((d) => d.status === 'pending')).toBe(true);

    const second = await spawn({ ROLE_NOTIFIER: 'true' });
    await until(
      () => deliveries(sub.id),
      (d) => d.every((x) => x.status === 'delivered'),
      60_000,
      'all delivered',
    );
    const got = receiver.at('/k1');
    const ids = (await deliveries(sub.id)).map((d) => d.id);
    expect(got.map((r) => r.deliveryId).sort()).toEqual(ids);
    expect(got.every((r) => signatureValid(sub.secret, r.raw, r.signature))).toBe(true);
    expect(
      new Set(got.map((r) => `${r.body.contract.contractId} ${r.body.obligation.key}`)).size,
    ).toBe(30);
    await kill(second.c);
  });

  it('SIGKILL between a delivery and its record: nothing lost, nothing sent again once its acknowledgement is recorded', async () => {
    const first = await spawn({ ROLE_NOTIFIER: 'true', WEBHOOK_CONCURRENCY: '4' });
    let killedAt = 0;
    receiver.afterAnswer = (r) => {
      if (r.path === '/k2' && killedAt === 0) {
        killedAt = Date.now();
        first.c.proc.kill('SIGKILL'); // the 200 is written; the process has not recorded it
      }
    };
    const sub = await subscribe(first.url, '/k2', 'U-K2');
    await ingest(first.url, signedNow('K2', 12, 'U-K2'));
    await until(
      () => killedAt,
      (k) => k > 0,
      60_000,
      'the first acknowledgement',
    );
    await first.c.exited;
    receiver.afterAnswer = null;
    const atKill = await deliveries(sub.id);
    const recorded = new Set(atKill.filter((d) => d.status === 'delivered').map((d) => d.id));
    const ackedBeforeKill = new Set(
      receiver
        .at('/k2')
        .filter((r) => r.at <= killedAt)
        .map((r) => r.deliveryId),
    );
    expect(ackedBeforeKill.size).toBeGreaterThan(0);

    const secondStarted = Date.now(); // the first process is dead: what comes now is the second's
    const second = await spawn({ ROLE_NOTIFIER: 'true' });
    await until(
      () => deliveries(sub.id),
      (d) => d.length === 12 && d.every((x) => x.status === 'delivered'),
      90_000,
      'all delivered',
    );
    const got = receiver.at('/k2');
    // nothing lost: every decided delivery reached the receiver, by its id
    expect([...new Set(got.map((r) => r.deliveryId))].sort()).toEqual(
      (await deliveries(sub.id)).map((d) => d.id),
    );
    // acknowledged and recorded before the kill: never sent again
    const after = got.filter((r) => r.at > killedAt);
    expect(after.filter((r) => recorded.has(r.deliveryId))).toEqual([]);
    // acknowledged but not recorded: sent again, with the same id (at least once)
    const resent = [...ackedBeforeKill].filter((id) => !recorded.has(id));
    for (const id of resent) expect(after.some((r) => r.deliveryId === id)).toBe(true);
    // the second process sends each once: it records every acknowledgement
    const perId = new Map<string, number>();
    for (const r of got.filter((x) => x.at > secondStarted))
      perId.set(r.deliveryId, (perId.get(r.deliveryId) ?? 0) + 1);
    expect([...perId.values()].every((n) => n === 1)).toBe(true);
    console.log(
      `[webhook kill] acknowledged before the kill ${ackedBeforeKill.size}, recorded ${recorded.size}, ` +
        `sent again after the kill ${resent.length} (same ids), ${got.length} requests for 12 deliveries`,
    );
    await kill(second.c);
  });

  describe('in process', () => {
    const apps: InProcessApp[] = [];
    afterAll(async () => {
      for (const a of apps) await a.close().catch(() => undefined);
    });

    it('two instances on one database: each delivery sent by one of them, once', async () => {
      const env = { ...ENV, WEBHOOK_CONCURRENCY: '4', WEBHOOK_POLL_MS: '10', LOG_LEVEL: 'warn' };
      const a = await startInProcessApp(db.url, env);
      const b = await startInProcessApp(db.url, env);
      apps.push(a, b);
      receiver.answer = async () => {
        await new Promise((r) => setTimeout(r, 5 + Math.random() * 30));
        return 200;
      };
      const sub = await subscribe(a.url, '/k3', 'U-K3');
      await ingest(b.url, signedNow('K3', 60, 'U-K3'));
      await until(
        () => deliveries(sub.id),
        (d) => d.length === 60 && d.every((x) => x.status === 'delivered'),
        90_000,
        'all delivered',
      );
      await new Promise((r) => setTimeout(r, 500));
      const got = receiver.at('/k3');
      expect(got).toHaveLength(60);
      expect(new Set(got.map((r) => r.deliveryId)).size).toBe(60);
      const sent = async (app: InProcessApp) =>
        Number(
          /^webhook_deliveries_sent_total\{kind="obligation.due_soon"\} (\d+)$/m.exec(
            await (await fetch(`${app.url}/metrics`)).text(),
          )?.[1] ?? 0,
        );
      const [na, nb] = [await sent(a), await sent(b)];
      expect(na + nb).toBe(60);
      console.log(`[webhook two instances] sent ${na} + ${nb}`);
      receiver.answer = () => 200;
      await b.close();
      await a.close();
      apps.length = 0;
    });

    it('PostgreSQL unreachable while deliveries are in flight: each recorded once it is back, none lost or repeated', async () => {
      const port = Number(new URL(db.url).port || 5432);
      const proxy = new DbProxy(port);
      await proxy.start();
      const app = await startInProcessApp(proxy.urlFor(db.url), {
        ...ENV,
        WEBHOOK_CONCURRENCY: '8',
        LOG_LEVEL: 'error',
      });
      apps.push(app);
      const cut: { outage: Promise<void> | null } = { outage: null };
      receiver.answer = async (r) => {
        if (r.path === '/k4' && !cut.outage) {
          // the first request cuts the database off for 3 s, then answers
          cut.outage = (async () => {
            await proxy.stop();
            await new Promise((res) => setTimeout(res, 3000));
            await proxy.restart();
          })();
        }
        await new Promise((res) => setTimeout(res, 50));
        return 200;
      };
      const sub = await subscribe(app.url, '/k4', 'U-K4');
      await ingest(app.url, signedNow('K4', 20, 'U-K4'));
      await until(
        () => deliveries(sub.id),
        (d) => d.length === 20 && d.every((x) => x.status === 'delivered'),
        90_000,
        'all delivered after the outage',
      );
      expect(cut.outage).not.toBeNull();
      await cut.outage;
      await new Promise((r) => setTimeout(r, 500));
      const got = receiver.at('/k4');
      expect(new Set(got.map((r) => r.deliveryId)).size).toBe(20);
      // an acknowledgement is recorded late rather than sent again: each id once
      expect(got).toHaveLength(20);
      receiver.answer = () => 200;
      await app.close();
      apps.length = 0;
      await proxy.stop();
    });
  });
});
