import type { Browser } from 'playwright-core';
import { describeWithBrowser, testPool } from '@app/testing';
import { startTestApp, type TestApp } from '../support/test-app';
import { catchUpToHead } from '../support/catch-up';
import { auth, tokenFor } from '../support/auth';
import { NOW, dashboardFeed, postFeed } from '../support/dashboard-feed';
import {
  axeViolations,
  fieldTexts,
  launchChromium,
  openPage,
  signInWithFragment,
  type Watched,
} from '../support/dashboard-browser';
import { signatureValid, until, WebhookReceiver } from '../support/webhook-receiver';

/** The dashboard's formatting, restated for the assertions (apps/dashboard/src/format.ts). */
const count = (n: number) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
const yuan = (s: string) => {
  const [i, f = ''] = s.split('.');
  return `${i.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${(f + '00').slice(0, 2)}`;
};
const share = (n: number | null) =>
  n === null ? '—' : `${(Math.round(n * 10_000) / 100).toFixed(2)}%`;
const days = (n: number | null) => (n === null ? '—' : n.toFixed(2));

/**
 * The administrators' 通知订阅 view (SPEC §8, webhooks) and the unit page's payment performance
 * (SPEC §7) in real Chromium, against the real service on real PostgreSQL, with a real HTTP
 * receiver on the loopback for the subscription made through the page.
 */
describeWithBrowser('dashboard: webhooks and payment performance in Chromium (e2e)', () => {
  let t: TestApp;
  let browser: Browser;
  let admin: string;
  let inspector: string;
  const receiver = new WebhookReceiver();
  let receiverUrl: string;
  const AS_OF = '2025-12-15';
  const UNIT = 'U-500102-001';
  const pages: Watched[] = [];

  const api = async (path: string, headers: Record<string, string> = auth('admin')) => {
    const res = await fetch(`${t.url}${path}`, { headers });
    expect(res.status).toBe(200);
    return (await res.json()) as any;
  };
  const open = async () => {
    const w = await openPage(browser);
    pages.push(w);
    return w;
  };

  beforeAll(async () => {
    receiverUrl = await receiver.start();
    t = await startTestApp({
      clock: { now: () => NOW },
      env: {
        ROLE_NOTIFIER: 'true',
        WEBHOOK_POLL_MS: '100',
        WEBHOOK_RETRY_BASE_MS: '200',
        WEBHOOK_RETRY_MAX_MS: '500',
        WEBHOOK_TIMEOUT_MS: '2000',
      },
    });
    await postFeed(t, dashboardFeed());
    // the PostgreSQL cluster is shared: one catch-up may stop short of the feed's last events
    await catchUpToHead(t.app);
    admin = await tokenFor('admin', { sub: 'admin-browser' });
    inspector = await tokenFor('inspector', { sub: 'inspector-browser' });
    browser = await launchChromium();
  });
  afterEach(async () => {
    for (const w of pages.splice(0)) {
      expect({ csp: w.cspViolations, errors: w.errors }).toEqual({ csp: [], errors: [] });
      await w.context.close();
    }
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await receiver.stop();
  });

  // ---------------------------------------------------------------------------------------
  it('creates a subscription through the page: the secret once (it signs the deliveries), listed, its history, deleted', async () => {
    const w = await open();
    const { page } = w;
    await w.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: t.url });
    await signInWithFragment(page, t.url, admin, '/admin/projections');
    await page.locator('.el-menu-item', { hasText: '通知订阅' }).click();
    await page.waitForURL(/\/admin\/webhooks/);
    await page.locator('.el-empty').waitFor(); // no subscription yet

    const url = `${receiverUrl}/hooks/ui`;
    await page.locator('#webhook-url').fill(url);
    // due soon and overdue are ticked by default; add fulfilled late
    await page
      .locator('[data-testid="webhook-events"] [data-event="obligation.fulfilled_late"]')
      .click();
    await page.locator('#webhook-region').fill('5001');
    await page.locator('#webhook-due-soon').fill('10');
    await page.locator('#webhook-due-soon').blur();
    await page.locator('[data-testid="webhook-submit"]').click();

    const dialog = page.locator('[data-testid="webhook-secret-dialog"]');
    const secretBox = page.locator('[data-testid="webhook-secret"] input');
    // (the dialog's own input, readonly)
    await secretBox.waitFor();
    const secret = await secretBox.inputValue();
    expect(secret).toMatch(/^whsec_[0-9a-f]{64}$/);
    expect(await page.locator('.el-dialog').innerText()).toContain('仅显示这一次');
    expect(await page.locator('.el-dialog').innerText()).toContain('无法再次查看');
    await page.locator('[data-testid="webhook-secret-copy"]').click();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(secret);
    await page.locator('[data-testid="webhook-secret-close"]').click();
    await dialog.waitFor({ state: 'hidden' }).catch(() => undefined);
    await until(
      () => page.locator('body').innerText(),
      (text) => !text.includes(secret),
      5000,
      'the secret to leave the page',
    );

    // listed as the API lists it (no secret there either)
    const listed = await api('/v1/admin/webhooks');
    expect(listed).toHaveLength(1);
    expect(JSON.stringify(listed)).not.toContain(secret);
    expect(listed[0]).toMatchObject({
      url,
      events: ['obligation.due_soon', 'obligation.overdue', 'obligation.fulfilled_late'],
      region: '5001',
      unit: null,
      rule: null,
      dueSoonWorkingDays: 10,
      state: 'active',
    });
    const table = '[data-testid="webhooks-table"]';
    await page.locator(`${table} [data-field="url"]`, { hasText: url }).waitFor();
    expect(await fieldTexts(page, table, 'url')).toEqual([url]);
    expect(await page.locator(`${table} [data-state]`).getAttribute('data-state')).toBe('active');

    // the sweep at creation decided what is due soon; the receiver got it signed with that secret
    const got = await until(
      () => receiver.at('/hooks/ui'),
      (r) => r.length > 0,
      20_000,
      'a delivery to the receiver',
    );
    expect(signatureValid(secret, got[0].raw, got[0].signature)).toBe(true);

    // its history, as the API gives it (the subscription id in the URL)
    const id = listed[0].id as string;
    await until(
      async () => (await api(`/v1/admin/webhooks/${id}/deliveries?status=delivered`)).items,
      (items: any[]) => items.length > 0,
      20_000,
      'a recorded delivery',
    );
    await page.locator(`${table} [data-action="history"]`).click();
    await page.waitForURL(new RegExp(`id=${id}`));
    await page.locator('[data-testid="delivery-status"]').click();
    await page.locator('.el-select-dropdown__item:visible', { hasText: '已送达' }).click();
    await page.waitForURL(/status=delivered/);
    const history = await api(
      `/v1/admin/webhooks/${id}/deliveries?status=delivered&page=1&pageSize=20`,
    );
    const deliveries = '[data-testid="deliveries-table"]';
    await page.locator(deliveries).waitFor();
    expect(
      await page
        .locator(`${deliveries} [data-status]`)
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-status'))),
    ).toEqual(history.items.map((d: any) => d.status));
    expect(await fieldTexts(page, deliveries, 'attempts')).toEqual(
      history.items.map((d: any) => String(d.attempts)),
    );
    expect(await page.locator(`${deliveries} a.link`).allInnerTexts()).toEqual(
      history.items.map((d: any) => d.contractId),
    );

    // delete, confirmed
    await page.locator(`${table} [data-action="delete"]`).click();
    const box = page.locator('.el-message-box');
    await box.waitFor();
    expect(await box.innerText()).toContain(url);
    await box.locator('.el-button--danger, .el-button--primary').last().click();
    await page.locator('.el-empty').first().waitFor();
    expect(await api('/v1/admin/webhooks')).toEqual([]);
    expect(new URL(page.url()).searchParams.get('id')).toBeNull();
  });

  it('a refused URL: the API code shown in Chinese; nothing created', async () => {
    const { page } = await open();
    await signInWithFragment(page, t.url, admin, '/admin/webhooks');
    await page.locator('#webhook-url').fill('http://hooks.example.com/compliance');
    await page.locator('[data-testid="webhook-submit"]').click();
    const error = page.locator('[data-testid="webhook-error"]');
    await error.waitFor();
    const text = await error.innerText();
    expect(text.trim()).toBe(
      '接收地址须为 https（http 仅限本机回环地址）（WEBHOOK.URL_NOT_HTTPS）',
    );
    expect(await page.locator('[data-testid="webhook-secret"]').count()).toBe(0);
    expect(await api('/v1/admin/webhooks')).toEqual([]);
    // and in English on demand
    await page.locator('button', { hasText: 'English' }).click();
    await page.locator('h1', { hasText: 'Webhook subscriptions' }).waitFor();
    await page.locator('[data-testid="webhook-submit"]').click();
    await until(
      () => error.innerText(),
      (s) =>
        s.trim() === 'The URL must be https (http only to the loopback) (WEBHOOK.URL_NOT_HTTPS)',
      5000,
      'the English message',
    );
    await page.locator('button', { hasText: '中文' }).click();
  });

  it('a paused subscription is shown paused with its failure, and resumed from the page', async () => {
    const res = await fetch(`${t.url}/v1/admin/webhooks`, {
      method: 'POST',
      headers: { ...auth('admin'), 'content-type': 'application/json' },
      body: JSON.stringify({ url: `${receiverUrl}/hooks/paused`, events: ['obligation.overdue'] }),
    });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    // what the sender does after 24 h of failures (docs/webhooks.md)
    const pool = testPool(t.db.url, 1);
    await pool.query(
      `UPDATE webhook_subscriptions
          SET state = 'paused', failing_since = now() - interval '25 hours', paused_at = now()
        WHERE id = $1`,
      [id],
    );
    await pool.end();

    const { page } = await open();
    await signInWithFragment(page, t.url, admin, '/admin/webhooks');
    const row = page.locator('[data-testid="webhooks-table"] .el-table__row', {
      hasText: '/hooks/paused',
    });
    await row.locator('[data-state="paused"]').waitFor();
    expect(await row.locator('[data-state="paused"]').innerText()).toBe('已暂停');
    await row.locator('[data-field="failingSince"]').waitFor();
    await row.locator('[data-action="resume"]').click();
    await row.locator('[data-state="active"]').waitFor();
    expect((await api(`/v1/admin/webhooks/${id}`)).state).toBe('active');
    expect(await row.locator('[data-action="resume"]').count()).toBe(0);

    const del = await fetch(`${t.url}/v1/admin/webhooks/${id}`, {
      method: 'DELETE',
      headers: auth('admin'),
    });
    expect(del.status).toBe(204);
  });

  // ---------------------------------------------------------------------------------------
  it("the unit page's payment performance equals the API's, for the as-of year by default and a period picked", async () => {
    const { page } = await open();
    const fields = [
      ['invoicesPaid', (p: any) => count(p.invoicesPaid)],
      ['amountPaid', (p: any) => yuan(p.amountPaid)],
      ['meanDaysToPay', (p: any) => days(p.meanDaysToPay)],
      ['paidWithin30Days', (p: any) => share(p.paidWithin30Days)],
      ['paidIn31To60Days', (p: any) => share(p.paidIn31To60Days)],
      ['paidAfter60Days', (p: any) => share(p.paidAfter60Days)],
      ['withDeadline', (p: any) => count(p.withDeadline)],
      ['paidLateShare', (p: any) => share(p.paidLateShare)],
      ['weightedMeanDelayDays', (p: any) => days(p.weightedMeanDelayDays)],
      ['timelinessIndexDays', (p: any) => days(p.timelinessIndexDays)],
    ] as const;
    const scope = '[data-testid="payment-performance"]';
    const shown = async () => {
      const out: Record<string, string[]> = {};
      for (const [f] of fields) out[f] = await fieldTexts(page, scope, f);
      return out;
    };
    const want = (p: any) => Object.fromEntries(fields.map(([f, fmt]) => [f, [fmt(p)]]));

    await signInWithFragment(page, t.url, inspector, `/units/${UNIT}?asOf=${AS_OF}`);
    const year = await api(
      `/v1/units/${UNIT}/payment-performance?from=2025-01-01&to=2025-12-31`,
      auth('inspector'),
    );
    expect(year.invoicesPaid).toBeGreaterThan(0);
    await page.locator(`${scope} [data-field="invoicesPaid"]`).waitFor();
    expect(await shown()).toEqual(want(year));
    expect(
      await page.locator(`${scope} [data-testid="payment-period"] input`).first().inputValue(),
    ).toBe('2025-01-01');

    // a period in the URL (a deep link), then one picked through the control
    const from = '2025-06-01';
    const to = '2025-09-30';
    await page.goto(`${t.url}/units/${UNIT}?asOf=${AS_OF}&paidFrom=${from}&paidTo=${to}`);
    const part = await api(
      `/v1/units/${UNIT}/payment-performance?from=${from}&to=${to}`,
      auth('inspector'),
    );
    await page.locator(`${scope} [data-field="invoicesPaid"]`).waitFor();
    const eventually = async () => {
      const end = Date.now() + 10_000;
      let last = await shown();
      while (JSON.stringify(last) !== JSON.stringify(want(part)) && Date.now() < end) {
        await page.waitForTimeout(200);
        last = await shown();
      }
      return last;
    };
    expect(await eventually()).toEqual(want(part));

    const inputs = page.locator(`${scope} [data-testid="payment-period"] input`);
    await inputs.first().click();
    await inputs.first().fill('2025-03-01');
    await inputs.nth(1).fill('2025-11-30');
    await inputs.nth(1).press('Enter');
    await page.waitForURL(/paidFrom=2025-03-01&paidTo=2025-11-30|paidTo=2025-11-30/);
    expect(new URL(page.url()).searchParams.get('paidFrom')).toBe('2025-03-01');
    expect(new URL(page.url()).searchParams.get('asOf')).toBe(AS_OF);
  });

  it('axe-core: no serious or critical violation on 通知订阅 (with a subscription and its history) and on the unit page', async () => {
    const res = await fetch(`${t.url}/v1/admin/webhooks`, {
      method: 'POST',
      headers: { ...auth('admin'), 'content-type': 'application/json' },
      body: JSON.stringify({
        url: `${receiverUrl}/hooks/axe`,
        events: ['obligation.due_soon'],
        dueSoonWorkingDays: 10,
      }),
    });
    const { id } = (await res.json()) as { id: string };
    const { page } = await open();
    const found: Record<string, unknown> = {};
    await signInWithFragment(page, t.url, admin, `/admin/webhooks?id=${id}`);
    await page.locator('[data-testid="webhooks-table"]').waitFor();
    await page
      .locator('[data-testid="deliveries-table"], [data-testid="webhook-history"] .el-empty')
      .first()
      .waitFor();
    await page.waitForLoadState('networkidle');
    found.webhooks = await axeViolations(page);
    await page.locator('#webhook-url').fill('https://127.0.0.1.invalid/');
    found.webhooksForm = await axeViolations(page);

    await signInWithFragment(page, t.url, inspector, `/units/${UNIT}?asOf=${AS_OF}`);
    await page.locator('[data-testid="payment-performance"] [data-field="invoicesPaid"]').waitFor();
    await page.waitForLoadState('networkidle');
    found.unit = await axeViolations(page);
    expect(found).toEqual({ webhooks: [], webhooksForm: [], unit: [] });
  });
});
