/**
 * SPEC §8 webhooks on the real application and a real HTTP receiver on the loopback:
 * subscriptions (secret once, SSRF refusals), due-soon / overdue / fulfilled-late deliveries
 * decided by the projector and by the sweep as the clock moves on, the signature, retries
 * (500, 500, 200: one delivery id, nothing after the 200), history, metrics, the pause after
 * 24 h of failures and resume, deletion.
 */
import { NotificationSweep, type SweepResult } from '@app/projections';
import { creditCode, ev, type Envelope } from '@app/testing';
import { auth } from '../support/auth';
import { catchUpToHead } from '../support/catch-up';
import { startTestApp, type TestApp } from '../support/test-app';
import { signatureValid, until, WebhookReceiver } from '../support/webhook-receiver';

jest.setTimeout(120_000);

const unit = (n: number) => ({ code: `U-WH-${n}`, name: `单位${n}`, region: `50010${n}` });
const DAY = 86_400_000;

describe('webhooks (e2e)', () => {
  let t: TestApp;
  const receiver = new WebhookReceiver();
  let base = '';
  // the service's clock: starts on 2021-09-29 12:00 Shanghai and runs; tests move it on
  const t0 = Date.now();
  let offset = Date.parse('2021-09-29T12:00:00+08:00') - t0;
  const clock = { now: () => Date.now() + offset };
  const moveTo = (isoLocal: string) => {
    offset = Date.parse(isoLocal) - Date.now();
  };

  const call = async (method: string, path: string, body?: unknown, role = 'admin' as const) => {
    const res = await fetch(`${t.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...auth(role) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  const send = async (events: Envelope[]) => {
    const r = await call('POST', '/v1/events', events, 'platform' as never);
    expect(r.body.results.filter((x: { status: string }) => x.status !== 'accepted')).toEqual([]);
    await catchUpToHead(t.app);
  };
  const sweep = async (): Promise<SweepResult> => {
    for (;;) {
      const r = await t.app.get(NotificationSweep).run();
      if (r.swept) return r;
      await new Promise((res) => setTimeout(res, 20));
    }
  };
  const subscribe = async (body: Record<string, unknown>) => {
    const r = await call('POST', '/v1/admin/webhooks', body);
    expect(r.status).toBe(201);
    return r.body as { id: string; secret: string };
  };
  const kinds = (path: string) =>
    receiver
      .at(path)
      .map((r) => `${r.kind} ${r.body.contract.contractId} ${r.body.obligation.key}`);

  beforeAll(async () => {
    base = await receiver.start();
    t = await startTestApp({
      clock,
      env: {
        ROLE_NOTIFIER: 'true',
        WEBHOOK_POLL_MS: '50',
        WEBHOOK_RETRY_BASE_MS: '100',
        WEBHOOK_RETRY_MAX_MS: '300',
        WEBHOOK_TIMEOUT_MS: '2000',
        PUBLIC_URL: 'https://monitor.example.gov.cn/',
      },
    });
  });
  afterAll(async () => {
    await t?.close();
    await receiver.stop();
  });

  it('subscriptions: created with a secret shown once; refused URLs have stable codes', async () => {
    const created = await call('POST', '/v1/admin/webhooks', {
      url: `${base}/s0`,
      events: ['obligation.overdue'],
      region: '5001',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      url: `${base}/s0`,
      events: ['obligation.overdue'],
      region: '5001',
      unit: null,
      rule: null,
      dueSoonWorkingDays: 3,
      since: '2021-09-29',
      state: 'active',
      createdBy: 'admin-e2e',
      deliveries: { pending: 0, delivered: 0, cancelled: 0 },
    });
    expect(created.body.secret).toMatch(/^whsec_[0-9a-f]{64}$/);
    const list = await call('GET', '/v1/admin/webhooks');
    expect(list.status).toBe(200);
    expect(list.body.map((s: { id: string }) => s.id)).toContain(created.body.id);
    expect(JSON.stringify(list.body)).not.toContain(created.body.secret);
    const one = await call('GET', `/v1/admin/webhooks/${created.body.id}`);
    expect(one.body.secret).toBeUndefined();

    const refused: Array<[string, string]> = [
      ['http://example.com/hook', 'WEBHOOK.URL_NOT_HTTPS'],
      ['ftp://example.com/hook', 'WEBHOOK.URL_NOT_HTTPS'],
      ['http://10.0.0.8/hook', 'WEBHOOK.URL_NOT_HTTPS'],
      ['https://10.0.0.8/hook', 'WEBHOOK.URL_PRIVATE_ADDRESS'],
      ['https://192.168.1.1/hook', 'WEBHOOK.URL_PRIVATE_ADDRESS'],
      ['https://127.0.0.1/hook', 'WEBHOOK.URL_PRIVATE_ADDRESS'],
      ['https://localhost/hook', 'WEBHOOK.URL_PRIVATE_ADDRESS'],
      ['https://169.254.169.254/latest/meta-data', 'WEBHOOK.URL_PRIVATE_ADDRESS'],
      ['https://[::1]/hook', 'WEBHOOK.URL_PRIVATE_ADDRESS'],
      ['https://[::ffff:10.1.2.3]/hook', 'WEBHOOK.URL_PRIVATE_ADDRESS'],
      ['https://[fd00::1]/hook', 'WEBHOOK.URL_PRIVATE_ADDRESS'],
      ['https://100.64.0.1/hook', 'WEBHOOK.URL_PRIVATE_ADDRESS'],
      ['https://0.0.0.0/hook', 'WEBHOOK.URL_PRIVATE_ADDRESS'],
      ['not a url', 'WEBHOOK.URL_INVALID'],
      ['https://user:pw@example.com/hook', 'WEBHOOK.URL_INVALID'],
      ['https://example.com/hook#x', 'WEBHOOK.URL_INVALID'],
      [`https://example.com/${'a'.repeat(2100)}`, 'WEBHOOK.URL_INVALID'],
      ['https://no-such-host.invalid/hook', 'WEBHOOK.URL_UNRESOLVABLE'],
    ];
    for (const [url, code] of refused) {
      const r = await call('POST', '/v1/admin/webhooks', { url, events: ['obligation.overdue'] });
      expect({ url: url.slice(0, 60), status: r.status, code: r.body.code }).toEqual({
        url: url.slice(0, 60),
        status: 400,
        code,
      });
    }
    for (const body of [
      { url: `${base}/x`, events: [] },
      { url: `${base}/x`, events: ['obligation.nope'] },
      { url: `${base}/x`, events: ['obligation.overdue', 'obligation.overdue'] },
      { url: `${base}/x`, events: ['obligation.overdue'], dueSoonWorkingDays: 31 },
      { url: `${base}/x`, events: ['obligation.overdue'], rule: 'nope' },
      { url: `${base}/x`, events: ['obligation.overdue'], extra: 1 },
      { events: ['obligation.overdue'] },
    ]) {
      const r = await call('POST', '/v1/admin/webhooks', body);
      expect({ body, status: r.status, code: r.body.code }).toEqual({
        body,
        status: 400,
        code: 'REQUEST.VALIDATION_FAILED',
      });
    }
    for (const id of ['nope', '00000000-0000-4000-8000-000000000000']) {
      const r = await call('GET', `/v1/admin/webhooks/${id}`);
      expect({ status: r.status, code: r.body.code }).toEqual({
        status: 404,
        code: 'WEBHOOK.NOT_FOUND',
      });
    }
    expect((await call('DELETE', `/v1/admin/webhooks/${created.body.id}`)).status).toBe(204);
    expect((await call('GET', `/v1/admin/webhooks/${created.body.id}`)).status).toBe(404);
    expect((await call('DELETE', `/v1/admin/webhooks/${created.body.id}`)).status).toBe(404);
  });

  let s1: { id: string; secret: string };
  const U1 = unit(1);

  it('due soon and overdue delivered, signed; the past is not replayed; deciding again sends nothing', async () => {
    s1 = await subscribe({
      url: `${base}/s1`,
      events: ['obligation.due_soon', 'obligation.overdue', 'obligation.fulfilled_late'],
      unit: U1.code,
    });
    await send([
      // A: announcement due 09-30 (1 working day: due soon), filing 10-13 (6: not yet)
      ev.award('WH-A', '2021-09-13', { unit: U1, supplierCode: creditCode(601) }),
      ev.signed('WH-A', '2021-09-28', '1250000.00'),
      // F: signed on the make-up Sunday 09-26 → announcement due 09-28: overdue since today
      ev.award('WH-F', '2021-09-10', { unit: U1 }),
      ev.signed('WH-F', '2021-09-26'),
      ev.filed('WH-F', '2021-09-27'),
      // D: announcement due 09-03, overdue long before the subscription: not sent
      ev.award('WH-D', '2021-08-20', { unit: U1 }),
      ev.signed('WH-D', '2021-09-01'),
      ev.filed('WH-D', '2021-09-02'),
    ]);
    await until(
      () => receiver.at('/s1').length,
      (n) => n >= 2,
      20_000,
      'two deliveries',
    );
    expect(kinds('/s1').sort()).toEqual([
      'obligation.due_soon WH-A announcement',
      'obligation.overdue WH-F announcement',
    ]);
    for (const r of receiver.at('/s1')) {
      expect(signatureValid(s1.secret, r.raw, r.signature)).toBe(true);
      expect(signatureValid('whsec_wrong', r.raw, r.signature)).toBe(false);
      expect(r.deliveryId).toBe(r.body.deliveryId);
      expect(r.attempt).toBe(1);
    }
    const dueSoon = receiver.at('/s1').find((r) => r.kind === 'obligation.due_soon')!.body;
    expect(dueSoon).toEqual({
      deliveryId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      subscriptionId: s1.id,
      kind: 'obligation.due_soon',
      decidedAt: expect.stringMatching(/^2021-09-29T/),
      decidedOn: '2021-09-29',
      obligation: {
        rule: 'announcement',
        key: 'announcement',
        startedOn: '2021-09-28',
        deadline: '2021-09-30',
        fulfilledOn: null,
        status: 'pending',
        daysLeft: 1,
        workingDaysLeft: 1,
        delayDays: 0,
        delayWorkingDays: 0,
        provisional: false,
        policy: expect.any(String),
        source: expect.any(String),
      },
      contract: {
        contractId: 'WH-A',
        projectCode: 'P-WH-A',
        projectName: '教学设备采购',
        amount: '1250000.00',
      },
      unit: U1,
      supplier: { creditCode: creditCode(601), name: '重庆某某科技有限公司', sme: true },
      link: 'https://monitor.example.gov.cn/contracts/WH-A',
    });
    const overdue = receiver.at('/s1').find((r) => r.kind === 'obligation.overdue')!.body;
    expect(overdue.obligation).toMatchObject({
      deadline: '2021-09-28',
      status: 'overdue',
      daysLeft: null,
      workingDaysLeft: null,
      delayDays: 1,
      delayWorkingDays: 1,
    });

    // replayed, swept again, recomputed: nothing new
    expect((await sweep()).decided).toBe(0);
    await send([
      ev.invoice('WH-A', '2021-09-29T09:00:00+08:00', 'INV-1', '100.00'),
      ev.payment('WH-A', '2021-09-29T09:30:00+08:00', 'PAY-1', '100.00', 'progress', 'INV-1'),
    ]);
    await new Promise((r) => setTimeout(r, 500));
    expect(receiver.at('/s1')).toHaveLength(2);

    const history = await call('GET', `/v1/admin/webhooks/${s1.id}/deliveries`);
    expect(history.status).toBe(200);
    expect(history.body.items).toHaveLength(2);
    for (const d of history.body.items)
      expect(d).toMatchObject({
        status: 'delivered',
        attempts: 1,
        lastStatusCode: 200,
        lastError: null,
        nextAttemptAt: null,
        deliveredAt: expect.any(String),
      });
  });

  it('a receiver answering 500, 500, then 200: one delivery id, three attempts, nothing after the 200', async () => {
    const U2 = unit(2);
    const seen = new Map<string, number>();
    receiver.answer = (r) => {
      if (r.path !== '/s2') return 200;
      const n = (seen.get(r.deliveryId) ?? 0) + 1;
      seen.set(r.deliveryId, n);
      return n <= 2 ? 500 : 200;
    };
    const s2 = await subscribe({
      url: `${base}/s2`,
      events: ['obligation.overdue'],
      unit: U2.code,
    });
    await send([
      ev.award('WH-R', '2021-09-10', { unit: U2 }),
      ev.signed('WH-R', '2021-09-26'),
      ev.filed('WH-R', '2021-09-27'),
    ]);
    await until(
      () => receiver.at('/s2').filter((r) => r.answered === 200).length,
      (n) => n === 1,
      20_000,
      'the 200',
    );
    await new Promise((r) => setTimeout(r, 1500)); // well past the retry interval
    const got = receiver.at('/s2');
    expect(got.map((r) => [r.answered, r.attempt])).toEqual([
      [500, 1],
      [500, 2],
      [200, 3],
    ]);
    expect(new Set(got.map((r) => r.deliveryId)).size).toBe(1);
    expect(new Set(got.map((r) => r.raw)).size).toBe(1); // the same bytes, signed alike
    const h = await call('GET', `/v1/admin/webhooks/${s2.id}/deliveries`);
    expect(h.body.items).toEqual([
      expect.objectContaining({
        deliveryId: got[0].deliveryId,
        status: 'delivered',
        attempts: 3,
        lastStatusCode: 200,
        lastError: null,
      }),
    ]);
    expect((await call('GET', `/v1/admin/webhooks/${s2.id}`)).body.failingSince).toBeNull();
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(
      /^webhook_delivery_failures_total\{kind="obligation.overdue",reason="http_status"\} 2$/m,
    );
    expect(metrics).toMatch(/^webhook_deliveries_sent_total\{kind="obligation.overdue"\} [2-9]$/m);
    expect(metrics).toMatch(/^webhook_deliveries_pending 0$/m);
    expect(metrics).toMatch(/^webhook_oldest_pending_age_seconds 0$/m);
    receiver.answer = () => 200;
  });

  it('as the date moves on, the sweep decides: overdue after the deadline, due soon at the threshold, then fulfilled late', async () => {
    // 10-08: A's announcement (09-30) has passed; A's filing (10-13) has 4 working days left
    moveTo('2021-10-08T09:00:00+08:00');
    const r1 = await sweep();
    expect(r1).toMatchObject({ today: '2021-10-08', from: '2021-09-28' });
    await until(
      () => receiver.at('/s1').length,
      (n) => n === 3,
      20_000,
      'the 3rd',
    );
    expect(kinds('/s1')[2]).toBe('obligation.overdue WH-A announcement');
    // 10-09 (a make-up Saturday): 3 working days left → due soon
    moveTo('2021-10-09T09:00:00+08:00');
    expect((await sweep()).decided).toBe(1);
    await until(
      () => receiver.at('/s1').length,
      (n) => n === 4,
      20_000,
      'the 4th',
    );
    const soon = receiver.at('/s1')[3].body;
    expect(soon).toMatchObject({
      kind: 'obligation.due_soon',
      decidedOn: '2021-10-09',
      obligation: { key: 'filing', deadline: '2021-10-13', daysLeft: 4, workingDaysLeft: 3 },
    });
    expect((await sweep()).decided).toBe(0);
    // 10-14: the filing is overdue
    moveTo('2021-10-14T09:00:00+08:00');
    expect((await sweep()).decided).toBe(1);
    await until(
      () => receiver.at('/s1').length,
      (n) => n === 5,
      20_000,
      'the 5th',
    );
    expect(kinds('/s1')[4]).toBe('obligation.overdue WH-A filing');
    // 10-15: announced and filed late → two fulfilled-late, decided by the projector
    moveTo('2021-10-15T12:00:00+08:00');
    await send([
      ev.announced('WH-A', '2021-10-15T09:00:00+08:00'),
      ev.filed('WH-A', '2021-10-15T09:30:00+08:00'),
    ]);
    await until(
      () => receiver.at('/s1').length,
      (n) => n === 7,
      20_000,
      'the 7th',
    );
    expect(kinds('/s1').slice(5).sort()).toEqual([
      'obligation.fulfilled_late WH-A announcement',
      'obligation.fulfilled_late WH-A filing',
    ]);
    const late = receiver
      .at('/s1')
      .find(
        (r) => r.body.obligation.key === 'filing' && r.kind === 'obligation.fulfilled_late',
      )!.body;
    expect(late.obligation).toMatchObject({
      status: 'late',
      fulfilledOn: '2021-10-15',
      delayDays: 2,
      delayWorkingDays: 2,
    });
    // each (obligation, kind) once: 7 distinct
    expect(new Set(receiver.at('/s1').map((r) => r.deliveryId)).size).toBe(7);
  });

  it('a subscription failing for 24 h is paused (nothing sent meanwhile), resumed on request', async () => {
    const U4 = unit(4);
    let up = false;
    receiver.answer = (r) => (r.path === '/s4' && !up ? 503 : 200);
    const s4 = await subscribe({
      url: `${base}/s4`,
      events: ['obligation.overdue'],
      unit: U4.code,
    });
    await send([
      ev.award('WH-P', '2021-09-20', { unit: U4 }),
      ev.signed('WH-P', '2021-10-12'), // announcement due 10-14: overdue on 10-15
      ev.filed('WH-P', '2021-10-13'),
    ]);
    await until(
      () => receiver.at('/s4').length,
      (n) => n >= 2,
      20_000,
      'failures',
    );
    const failing = await call('GET', `/v1/admin/webhooks/${s4.id}`);
    expect(failing.body).toMatchObject({ state: 'active', failingSince: expect.any(String) });
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(/^webhook_deliveries_pending 1$/m);
    // a day later it still fails: paused at the next failure
    offset += DAY + 3_600_000;
    const paused = await until(
      async () => (await call('GET', `/v1/admin/webhooks/${s4.id}`)).body,
      (b) => b.state === 'paused',
      20_000,
      'paused',
    );
    expect(paused.pausedAt).toEqual(expect.any(String));
    const sentWhenPaused = receiver.at('/s4').length;
    await new Promise((r) => setTimeout(r, 1000));
    expect(receiver.at('/s4')).toHaveLength(sentWhenPaused);
    const pending = await call('GET', `/v1/admin/webhooks/${s4.id}/deliveries?status=pending`);
    expect(pending.body.items).toEqual([
      expect.objectContaining({ status: 'pending', lastError: 'HTTP 503', lastStatusCode: 503 }),
    ]);
    // resumed with the receiver back: delivered at once, the same delivery id
    up = true;
    const resumed = await call('POST', `/v1/admin/webhooks/${s4.id}/resume`);
    expect(resumed.body).toMatchObject({ state: 'active', failingSince: null, pausedAt: null });
    await until(
      () => receiver.at('/s4').filter((r) => r.answered === 200).length,
      (n) => n === 1,
      20_000,
      'delivered after resume',
    );
    expect(new Set(receiver.at('/s4').map((r) => r.deliveryId)).size).toBe(1);
    // deleted: nothing more decided for it
    expect((await call('DELETE', `/v1/admin/webhooks/${s4.id}`)).status).toBe(204);
    await send([ev.award('WH-P2', '2021-09-01', { unit: U4 })]);
    await sweep();
    await new Promise((r) => setTimeout(r, 500));
    expect(receiver.at('/s4').filter((r) => r.body.contract.contractId === 'WH-P2')).toEqual([]);
  });
});
