import { readFileSync } from 'node:fs';
import ExcelJS from 'exceljs';
import type { Browser } from 'playwright-core';
import { ProjectorDaemon } from '@app/projections';
import { describeWithBrowser } from '@app/testing';
import { startTestApp, type TestApp } from '../support/test-app';
import { auth, tokenFor } from '../support/auth';
import {
  C_EXEMPT,
  C_OTHER,
  C_STORY,
  NOW,
  SUPPLIER_A,
  dashboardFeed,
  postFeed,
} from '../support/dashboard-feed';
import {
  axeViolations,
  fieldTexts,
  launchChromium,
  openPage,
  signInWithFragment,
  type Watched,
} from '../support/dashboard-browser';

/** The dashboard's own formatting, restated for the assertions (see apps/dashboard/src/format.ts). */
const rate = (r: number | null) =>
  r === null ? '—' : `${(Math.round(r * 1000) / 10).toFixed(1)}%`;
const count = (n: number) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
const yuan = (s: string) => {
  const [i, f = ''] = s.split('.');
  return `${i.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${(f + '00').slice(0, 2)}`;
};

/** Polls `read` until it equals `want` (deep) or the time is up; returns the last value. */
async function eventually<T>(read: () => Promise<T>, want: T, ms = 10_000): Promise<T> {
  const until = Date.now() + ms;
  let last = await read();
  while (JSON.stringify(last) !== JSON.stringify(want) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 200));
    last = await read();
  }
  return last;
}

/**
 * The web dashboard (SPEC §9) in real Chromium against the real service on real PostgreSQL,
 * fed through POST /v1/events: sign-in, every view showing the API's numbers for the same
 * filters, drill-down, exports, exemption, supplier isolation, error states, accessibility.
 */
describeWithBrowser('dashboard in Chromium (e2e)', () => {
  let t: TestApp;
  let browser: Browser;
  let inspector: string;
  const AS_OF = '2025-12-15';
  const pages: Watched[] = [];

  const api = async (path: string, headers: Record<string, string> = auth('inspector')) => {
    const res = await fetch(`${t.url}${path}`, { headers });
    expect(res.status).toBe(200);
    return (await res.json()) as any;
  };
  const open = async (opts?: Parameters<typeof openPage>[1]) => {
    const w = await openPage(browser, opts);
    pages.push(w);
    return w;
  };
  const projector = () => t.app.get(ProjectorDaemon);

  beforeAll(async () => {
    t = await startTestApp({ clock: { now: () => NOW } });
    await postFeed(t, dashboardFeed());
    inspector = await tokenFor('inspector', { sub: 'inspector-browser' });
    browser = await launchChromium();
  });
  afterEach(async () => {
    // no page may break the CSP or throw
    for (const w of pages.splice(0)) {
      expect({ csp: w.cspViolations, errors: w.errors }).toEqual({ csp: [], errors: [] });
      await w.context.close();
    }
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  // ---------------------------------------------------------------------------------------
  describe('served by the monitor at /', () => {
    it('index.html for deep links (no-cache), hashed assets immutable, the service paths untouched', async () => {
      const root = await fetch(`${t.url}/`);
      expect(root.status).toBe(200);
      expect(root.headers.get('content-type')).toMatch(/text\/html/);
      expect(root.headers.get('cache-control')).toBe('no-cache');
      const csp = root.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("connect-src 'self'");
      expect(csp).not.toContain("'unsafe-eval'");
      const html = await root.text();
      expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/); // no inline script
      const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)![1];
      const a = await fetch(`${t.url}${asset}`);
      expect(a.status).toBe(200);
      expect(a.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      for (const deep of [
        '/units/U-500102-001',
        `/contracts/${C_STORY}`,
        '/violations?rule=signing&page=2',
      ]) {
        const r = await fetch(`${t.url}${deep}`, { headers: { accept: 'text/html' } });
        expect({ deep, status: r.status, cache: r.headers.get('cache-control') }).toEqual({
          deep,
          status: 200,
          cache: 'no-cache',
        });
        expect(await r.text()).toBe(html);
      }
      const missing = await fetch(`${t.url}/assets/nope-123.js`);
      expect(missing.status).toBe(404);
      const unknownApi = await fetch(`${t.url}/v1/no-such-route`, { headers: auth('inspector') });
      expect(unknownApi.status).toBe(404);
      expect(unknownApi.headers.get('content-type')).toMatch(/json/);
      expect(unknownApi.headers.get('content-security-policy')).toBe(
        "default-src 'none';frame-ancestors 'none'",
      );
      expect((await fetch(`${t.url}/health`)).headers.get('content-type')).toMatch(/json/);
      expect(await (await fetch(`${t.url}/docs/`)).text()).toContain('swagger');
      expect(await (await fetch(`${t.url}/v1/auth/config`)).json()).toEqual({ oidc: null });
    });
  });

  // ---------------------------------------------------------------------------------------
  describe('sign-in', () => {
    it('a pasted token: lands on the overview; kept in sessionStorage only', async () => {
      const { page } = await open();
      await page.goto(`${t.url}/violations?rule=signing`);
      await page.waitForURL(/\/login\?redirect=/);
      await page.locator('[data-testid="token-input"]').fill(inspector);
      await page.locator('[data-testid="token-submit"]').click();
      await page.waitForURL(/\/violations\?rule=signing$/);
      await expect(page.locator('[data-testid="role"]').innerText()).resolves.toBe('监督检查人员');
      expect(await page.evaluate("sessionStorage.getItem('monitor.token')")).toBe(inspector);
      expect(await page.evaluate('JSON.stringify(localStorage)')).not.toContain(inspector);
    });

    it('#token= in the fragment: signed in, the token leaves the address bar and is in no request URL', async () => {
      const w = await open();
      await signInWithFragment(w.page, t.url, inspector, '/units');
      expect(w.page.url()).toBe(`${t.url}/units`);
      expect(await w.page.evaluate('window.location.hash')).toBe('');
      await w.page.locator('[data-testid="units-table"]').waitFor();
      expect(w.requests.length).toBeGreaterThan(3);
      expect(w.requests.filter((u) => u.includes(inspector))).toEqual([]);
    });

    it('a refused token stays on sign-in with the reason; an expiring one returns there when it expires', async () => {
      const { page } = await open();
      await page.goto(`${t.url}/login`);
      const forged = await tokenFor(
        'inspector',
        {},
        { secret: 'another-secret-0123456789abcdefghijklmnopqrstuvwxyz' },
      );
      await page.locator('[data-testid="token-input"]').fill(forged);
      await page.locator('[data-testid="token-submit"]').click();
      await expect(page.locator('[data-testid="login-error"]').innerText()).resolves.toContain(
        '令牌无效',
      );
      expect(page.url()).toContain('/login');
      expect(await page.evaluate("sessionStorage.getItem('monitor.token')")).toBeNull();

      const shortLived = await tokenFor('inspector', {}, { expiresIn: 4 });
      await signInWithFragment(page, t.url, shortLived, '/overview');
      await page.waitForURL(/\/login\?reason=expired/, { timeout: 15_000 });
      await expect(page.locator('.el-alert__title').first().innerText()).resolves.toContain(
        '登录已过期',
      );
      expect(await page.evaluate("sessionStorage.getItem('monitor.token')")).toBeNull();
    });

    it('a 401 in the middle of a session (the token no longer accepted) returns to sign-in', async () => {
      const { page } = await open();
      await signInWithFragment(page, t.url, inspector, '/units');
      await page.locator('[data-testid="units-table"]').waitFor();
      // the service now refuses it: replace the stored token by a forged one, then navigate
      const forged = await tokenFor(
        'inspector',
        {},
        { secret: 'another-secret-0123456789abcdefghijklmnopqrstuvwxyz' },
      );
      await page.evaluate(`sessionStorage.setItem('monitor.token', ${JSON.stringify(forged)})`);
      await page.locator('a.link', { hasText: 'U-500102-001' }).first().click();
      await page.waitForURL(/\/login\?reason=unauthorized/);
    });
  });

  // ---------------------------------------------------------------------------------------
  describe('inspector views show the API numbers for the same filters', () => {
    it('overview: totals, per rule, worst units, trend and heat map, as of a date and region kept in the URL', async () => {
      const { page } = await open();
      const q = `asOf=${AS_OF}&region=5001`;
      await signInWithFragment(page, t.url, inspector, `/overview?${q}`);
      const o = await api(`/v1/overview?${q}`);
      const stats = '[data-testid="overview-stats"]';
      await page.locator(stats).waitFor();
      expect(await fieldTexts(page, stats, 'onTimeRate')).toEqual([rate(o.totals.onTimeRate)]);
      expect(await fieldTexts(page, stats, 'open')).toEqual([count(o.totals.open)]);
      expect(await fieldTexts(page, stats, 'overdue')).toEqual([count(o.totals.overdue)]);
      expect(await fieldTexts(page, stats, 'units')).toEqual([count(o.totals.units)]);
      const rules = '[data-testid="overview-rules"]';
      expect(await fieldTexts(page, rules, 'onTimeRate')).toEqual(
        o.rules.map((r: any) => rate(r.onTimeRate)),
      );
      expect(await fieldTexts(page, rules, 'overdue')).toEqual(
        o.rules.map((r: any) => String(r.overdue)),
      );
      expect(o.totals.total).toBeGreaterThan(50);
      const worst = await page.locator('[data-testid="overview-worst"] a.link').allInnerTexts();
      expect(worst).toEqual(o.worstUnits.map((u: any) => u.unitName ?? u.unitCode));
      // the charts drew (canvas), and the Beijing district is not in a 5001 heat map
      await page.locator('[data-testid="trend-chart"] canvas').first().waitFor();
      await page.locator('[data-testid="heatmap"] canvas').first().waitFor();
      // the region and date follow into the next view
      await page.locator('.el-menu-item', { hasText: '单位排名' }).click();
      await page.waitForURL(/\/units\?/);
      expect(new URL(page.url()).searchParams.get('asOf')).toBe(AS_OF);
      expect(new URL(page.url()).searchParams.get('region')).toBe('5001');
    });

    it('unit ranking (sorted, filtered) → unit page → a contract: drill-down with the API figures', async () => {
      const { page } = await open();
      await signInWithFragment(
        page,
        t.url,
        inspector,
        `/units?asOf=${AS_OF}&sort=-violations&rule=payment`,
      );
      const ranking = await api(
        `/v1/units?asOf=${AS_OF}&sort=-violations&rule=payment&page=1&pageSize=20`,
      );
      const table = '[data-testid="units-table"]';
      await page.locator(table).waitFor();
      expect(await page.locator(`${table} .el-table__body a.link`).allInnerTexts()).toEqual(
        ranking.items.map((u: any) => u.unitCode),
      );
      expect(await fieldTexts(page, table, 'onTimeRate')).toEqual(
        ranking.items.map((u: any) => rate(u.onTimeRate)),
      );
      expect(await fieldTexts(page, table, 'violations')).toEqual(
        ranking.items.map((u: any) => count(u.violations)),
      );
      // change the sort through the control: the URL and the rows follow
      await page.locator('.filters .el-select').nth(1).click();
      await page.locator('.el-select-dropdown__item:visible', { hasText: '单位代码' }).click();
      await page.waitForURL(/sort=unitCode/);
      const byCode = await api(
        `/v1/units?asOf=${AS_OF}&sort=unitCode&rule=payment&page=1&pageSize=20`,
      );
      expect(
        await eventually(
          () => page.locator(`${table} .el-table__body a.link`).allInnerTexts(),
          byCode.items.map((u: any) => u.unitCode),
        ),
      ).toEqual(byCode.items.map((u: any) => u.unitCode));

      const unit = 'U-500102-001';
      await page.locator(`${table} a.link`, { hasText: unit }).click();
      await page.waitForURL(new RegExp(`/units/${unit}\\?asOf=${AS_OF}`));
      const c = await api(`/v1/units/${unit}/compliance?asOf=${AS_OF}`);
      await page.locator('[data-testid="unit-rules"]').waitFor();
      expect(await page.locator('[data-field="contracts"]').innerText()).toBe(count(c.contracts));
      expect(await fieldTexts(page, '[data-testid="unit-rules"]', 'onTimeRate')).toEqual(
        c.rules.map((r: any) => rate(r.onTimeRate)),
      );
      expect(await fieldTexts(page, '[data-testid="unit-rules"]', 'overdue')).toEqual(
        c.rules.map((r: any) => String(r.counts.overdue)),
      );
      const v = await api(`/v1/violations?unit=${unit}&asOf=${AS_OF}&page=1&pageSize=10`);
      expect(v.items.length).toBeGreaterThan(0);
      const links = page.locator('[data-testid="unit-violations"] a.link');
      expect(await links.allInnerTexts()).toEqual(v.items.map((x: any) => x.contractId));
      const first = v.items[0].contractId;
      await links.first().click();
      await page.waitForURL(new RegExp(`/contracts/${first}`));
      const contract = await api(`/v1/contracts/${first}?asOf=${AS_OF}`);
      await page.locator('[data-testid="obligations"]').waitFor();
      expect(
        await page
          .locator('[data-testid="obligations"] [data-status]')
          .evaluateAll((els) => els.map((e) => e.getAttribute('data-status'))),
      ).toEqual(contract.obligations.map((o: any) => o.status));
    });

    it('violations: filters from the URL, paging, and the CSV and Excel files hold exactly the filtered rows', async () => {
      const { page } = await open();
      const filter = `rule=announcement&status=overdue&asOf=${AS_OF}`;
      await signInWithFragment(page, t.url, inspector, `/violations?${filter}&pageSize=5`);
      const first = await api(`/v1/violations?${filter}&page=1&pageSize=5`);
      const table = '[data-testid="violations-table"]';
      await page.locator(table).waitFor();
      const ids = () =>
        page.locator(`${table} .el-table__body a.link[href^="/contracts/"]`).allInnerTexts();
      expect(await ids()).toEqual(first.items.map((x: any) => x.contractId));
      expect(await fieldTexts(page, table, 'delayDays')).toEqual(
        first.items.map((x: any) => `${x.delayDays} 天`),
      );
      if (first.hasMore) {
        await page.locator('[data-testid="next-page"]').click();
        await page.waitForURL(/page=2/);
        const second = await api(`/v1/violations?${filter}&page=2&pageSize=5`);
        const want = second.items.map((x: any) => x.contractId);
        expect(await eventually(ids, want)).toEqual(want);
      }
      const all: any[] = [];
      for (let p = 1; ; p++) {
        const r = await api(`/v1/violations?${filter}&page=${p}&pageSize=500`);
        all.push(...r.items);
        if (!r.hasMore) break;
      }
      expect(all.length).toBeGreaterThan(3);

      const [csv] = await Promise.all([
        page.waitForEvent('download'),
        page.locator('[data-testid="export-csv"]').click(),
      ]);
      expect(csv.suggestedFilename()).toMatch(/\.csv$/);
      const text = readFileSync(await csv.path(), 'utf8').replace(/^\uFEFF/, '');
      const lines = text.trim().split(/\r?\n/);
      expect(lines.length - 1).toBe(all.length);
      const header = lines[0].split(',');
      const col = header.findIndex((h) => h.endsWith('contractId'));
      expect(col).toBeGreaterThanOrEqual(0);
      expect(lines.slice(1).map((l) => l.split(',')[col].replace(/"/g, ''))).toEqual(
        all.map((x) => x.contractId),
      );

      const [xlsx] = await Promise.all([
        page.waitForEvent('download'),
        page.locator('[data-testid="export-xlsx"]').click(),
      ]);
      expect(xlsx.suggestedFilename()).toMatch(/\.xlsx$/);
      const wb = new ExcelJS.Workbook();
      await wb.xlsx.load(readFileSync(await xlsx.path()) as unknown as ArrayBuffer);
      const sheet = wb.worksheets[0];
      const head = sheet.getRow(1).values as unknown[];
      const xcol = head.findIndex((h) => typeof h === 'string' && h.endsWith('contractId'));
      expect(xcol).toBeGreaterThan(0);
      const rows: string[] = [];
      sheet.eachRow((row, n) => {
        if (n > 1) rows.push(row.getCell(xcol).text);
      });
      expect(rows).toEqual(all.map((x) => x.contractId));
    });

    it('deadlines: the open obligations due within N working days, as the API lists them', async () => {
      const { page } = await open();
      await signInWithFragment(page, t.url, inspector, '/deadlines?within=10');
      const d = await api('/v1/deadlines?within=10&page=1&pageSize=20');
      expect(d.items.length).toBeGreaterThan(0);
      const table = '[data-testid="deadlines-table"]';
      await page.locator(table).waitFor();
      expect(await fieldTexts(page, table, 'workingDaysLeft')).toEqual(
        d.items.map((x: any) => String(x.workingDaysLeft)),
      );
      expect(await page.locator(`${table} a.link[href^="/contracts/"]`).allInnerTexts()).toEqual(
        d.items.map((x: any) => x.contractId),
      );
    });

    it('reporting lag and the annual SME disclosure show the API figures; the disclosure exports', async () => {
      const { page } = await open();
      // recordedAt is the real clock (the feed was stored just now): ask for the days around it
      const today = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);
      const yesterday = new Date(Date.now() + 8 * 3600_000 - 86_400_000).toISOString().slice(0, 10);
      await signInWithFragment(
        page,
        t.url,
        inspector,
        `/platforms/lag?from=${yesterday}&to=${today}`,
      );
      const lag = await api(`/v1/platforms/lag?from=${yesterday}&to=${today}`);
      expect(lag.items.length).toBeGreaterThan(3);
      await page.locator('[data-testid="lag-table"]').waitFor();
      expect(await fieldTexts(page, '[data-testid="lag-table"]', 'events')).toEqual(
        lag.items.map((r: any) => count(r.events)),
      );
      expect(await fieldTexts(page, '[data-testid="lag-table"]', 'p95Hours')).toEqual(
        lag.items.map((r: any) => String(r.p95Hours)),
      );

      await page.goto(`${t.url}/reports/sme-overdue?year=2025`);
      const sme = await api('/v1/reports/sme-overdue?year=2025');
      await page.locator('[data-testid="sme-total"]').waitFor();
      expect(await fieldTexts(page, '[data-testid="sme-total"]', 'contracts')).toEqual([
        count(sme.total.contracts),
      ]);
      expect(await fieldTexts(page, '[data-testid="sme-total"]', 'unpaid')).toEqual([
        yuan(sme.total.unpaid),
      ]);
      expect(await fieldTexts(page, '[data-testid="sme-table"]', 'unpaid')).toEqual(
        sme.items.map((r: any) => yuan(r.unpaid)),
      );
      const [file] = await Promise.all([
        page.waitForEvent('download'),
        page.locator('[data-testid="sme-export-csv"]').click(),
      ]);
      const lines = readFileSync(await file.path(), 'utf8')
        .trim()
        .split(/\r?\n/);
      expect(lines.length - 1).toBe(sme.items.length);
    });

    it('contract page: timeline with business and recorded times, the retracted payment struck through, data-quality flags', async () => {
      const { page } = await open();
      await signInWithFragment(page, t.url, inspector, `/contracts/${C_STORY}?asOf=${AS_OF}`);
      const c = await api(`/v1/contracts/${C_STORY}?asOf=${AS_OF}`);
      const e = await api(`/v1/contracts/${C_STORY}/events`);
      await page.locator('[data-testid="events"]').waitFor();
      expect(await page.locator('[data-field="amount"]').innerText()).toBe(yuan(c.amount));
      expect(
        await page
          .locator('[data-event-type]')
          .evaluateAll((els) => els.map((x) => x.getAttribute('data-event-type'))),
      ).toEqual(e.events.map((x: any) => x.type));
      const struck = page.locator('[data-retracted="true"]');
      expect(await struck.count()).toBe(e.events.filter((x: any) => x.retracted).length);
      expect(await struck.count()).toBe(1);
      expect(
        await struck.evaluate((el) => (globalThis as any).getComputedStyle(el).textDecorationLine),
      ).toBe('line-through');
      expect(await struck.innerText()).toContain('已撤回');
      // recorded time shown beside business time (Asia/Shanghai)
      expect(await page.locator('[data-testid="events"]').innerText()).toContain(
        '业务时间 2025-05-06 10:00:00',
      );
      expect(await page.locator('[data-testid="events"]').innerText()).toContain('记录时间');
      const flags = await page
        .locator('[data-testid="data-quality"] .el-alert__title')
        .allInnerTexts();
      expect(flags).toEqual(c.dataQuality.map((d: any) => d.code));
      expect(flags.length).toBeGreaterThan(0);
    });

    it('an exemption (reason, confirmation) changes the status shown to exempted', async () => {
      const { page } = await open();
      await signInWithFragment(page, t.url, inspector, `/contracts/${C_EXEMPT}`);
      const before = await api(`/v1/contracts/${C_EXEMPT}`);
      expect(before.obligations.find((o: any) => o.key === 'announcement').status).toBe('overdue');
      const chosen = page.locator(
        '[data-testid="exempt-key"] .el-select__placeholder:not(.is-transparent)',
      );
      for (let i = 0; i < 5 && !(await chosen.isVisible()); i++) {
        await page.locator('[data-testid="exempt-key"]').click();
        await page
          .locator('.el-select-dropdown__item:visible', { hasText: 'announcement' })
          .click();
        await page.waitForTimeout(200);
      }
      expect(await chosen.innerText()).toContain('announcement');
      await page.locator('[data-testid="exempt-reason"]').fill('公告系统故障，经核实属不可抗力');
      await page.locator('[data-testid="exempt-submit"]').click();
      await page.locator('.el-message-box').waitFor();
      expect(await page.locator('.el-message-box').innerText()).toContain('announcement');
      await page.locator('.el-message-box .el-button--primary').click();
      // the projector runs (ROLE_PROJECTOR=false here: the test drives it) while the page waits
      const done = await eventually(
        async () => {
          await projector().catchUp();
          const cls = await page
            .locator('[data-testid="exempt-result"]')
            .getAttribute('class', { timeout: 1000 })
            .catch(() => '');
          return (cls ?? '').includes('el-alert--success');
        },
        true,
        20_000,
      );
      expect(done).toBe(true);
      await expect(
        page.locator('[data-key="announcement"] [data-status]').getAttribute('data-status'),
      ).resolves.toBe('exempted');
      const after = await api(`/v1/contracts/${C_EXEMPT}`);
      expect(after.obligations.find((o: any) => o.key === 'announcement').status).toBe('exempted');
      const events = await api(`/v1/contracts/${C_EXEMPT}/events`);
      expect(events.events.at(-1)).toMatchObject({
        type: 'ObligationExempted',
        data: { reason: '公告系统故障，经核实属不可抗力' },
      });
    });
  });

  // ---------------------------------------------------------------------------------------
  describe('suppliers and administrators', () => {
    it("a supplier sees its own invoices and contracts; another supplier's contract is not found", async () => {
      const { page } = await open();
      const token = await tokenFor('supplier', { creditCode: SUPPLIER_A });
      await signInWithFragment(page, t.url, token, '/');
      await page.waitForURL(/\/supplier/);
      const own = await api(`/v1/suppliers/${SUPPLIER_A}/payments`, {
        Authorization: `Bearer ${token}`,
      });
      await page.locator('[data-testid="supplier-invoices"]').waitFor();
      expect(await fieldTexts(page, '[data-testid="supplier-invoices"]', 'amount')).toEqual(
        own.invoices.map((i: any) => yuan(i.amount)),
      );
      const contracts = await page
        .locator('[data-testid="supplier-contracts"] a.link')
        .allInnerTexts();
      expect(contracts).toContain(C_STORY);
      expect(contracts).not.toContain(C_OTHER);
      // a deep link to supplier B's contract: not found, like the API
      await page.goto(`${t.url}/contracts/${C_OTHER}`);
      const alert = page.locator('.el-result[role="alert"]').first();
      await alert.waitFor();
      expect(await alert.getAttribute('data-status')).toBe('404');
      expect(await alert.innerText()).toContain('未找到');
      expect(await page.locator('body').innerText()).not.toContain('99,000.00');
      // and inspector-only views send it home
      await page.goto(`${t.url}/violations`);
      await page.waitForURL(/\/supplier$/);
    });

    it('an administrator sees projections, the calendar years (provisional ones marked) and the policy layers', async () => {
      const { page } = await open();
      await signInWithFragment(page, t.url, await tokenFor('admin'), '/');
      await page.waitForURL(/\/admin\/projections/);
      await page.locator('[data-testid="projections"]').waitFor();
      const p = await api('/v1/admin/projections', auth('admin'));
      expect(await page.locator('[data-testid="projections"]').innerText()).toContain(
        p.projections[0].name,
      );
      await page.locator('.el-menu-item', { hasText: '节假日日历' }).click();
      await page.locator('[data-testid="calendar-years"]').waitFor();
      const cal = await api('/v1/admin/calendar', auth('admin'));
      expect(cal.officialYears).toContain(2025);
      await page.locator('[data-year-status="2025:official"]').waitFor();
      if (!cal.officialYears.includes(2027))
        await page.locator('[data-year-status="2027:provisional"]').waitFor();
      await page.locator('.el-menu-item', { hasText: '政策规则' }).click();
      const policies = await api('/v1/policies', auth('admin'));
      for (const l of policies.layers) await page.locator(`[data-layer="${l.id}"]`).waitFor();
    });
  });

  // ---------------------------------------------------------------------------------------
  describe('states and qualities', () => {
    it('404, 429 and 503 QUERY.TIMEOUT have their message; retry loads the view', async () => {
      const { page } = await open();
      await signInWithFragment(page, t.url, inspector, '/units/NO-SUCH-UNIT');
      const alert = page.locator('.el-result[role="alert"]').first();
      await alert.waitFor();
      expect(await alert.getAttribute('data-status')).toBe('404');

      // the network answers as the service does under load (the body is the API's error shape)
      let answer = { status: 503, code: 'QUERY.TIMEOUT', headers: {} as Record<string, string> };
      await page.route('**/v1/units?*', (route) =>
        route.fulfill({
          status: answer.status,
          contentType: 'application/json',
          headers: answer.headers,
          body: JSON.stringify({
            statusCode: answer.status,
            code: answer.code,
            message: 'x',
            correlationId: 'c-1',
          }),
        }),
      );
      await page.locator('.el-menu-item', { hasText: '单位排名' }).click();
      await page.locator('.el-result[data-code="QUERY.TIMEOUT"]').waitFor();
      expect(await page.locator('.el-result[role="alert"]').innerText()).toContain('查询超时');
      answer = { status: 429, code: 'REQUEST.TOO_MANY_REQUESTS', headers: { 'Retry-After': '7' } };
      await page.locator('.el-result button', { hasText: '重试' }).click();
      await page.locator('.el-result[data-status="429"]').waitFor();
      expect(await page.locator('.el-result[role="alert"]').innerText()).toContain('7 秒后重试');
      await page.unroute('**/v1/units?*');
      await page.locator('.el-result button', { hasText: '重试' }).click();
      await page.locator('[data-testid="units-table"]').waitFor();
    });

    it('an empty result says so', async () => {
      const { page } = await open();
      await signInWithFragment(page, t.url, inspector, '/violations?unit=U-NOBODY');
      await page.locator('.el-empty').waitFor();
    });

    it('English on demand; Chinese by default', async () => {
      const { page } = await open();
      await signInWithFragment(page, t.url, inspector, '/units');
      await page.locator('.el-menu-item', { hasText: '违规清单' }).waitFor();
      await page.locator('button', { hasText: 'English' }).click();
      await page.locator('.el-menu-item', { hasText: 'Violations' }).waitFor();
      expect(await page.evaluate('document.documentElement.lang')).toBe('en');
    });

    it('axe-core: no serious or critical violation on the main views, keyboard focus reaches the menu', async () => {
      const { page } = await open();
      await page.goto(`${t.url}/login`);
      await page.locator('[data-testid="token-input"]').waitFor();
      const found: Record<string, unknown> = { login: await axeViolations(page) };
      await signInWithFragment(page, t.url, inspector, `/overview?asOf=${AS_OF}`);
      const views: Array<[string, string]> = [
        ['overview', `/overview?asOf=${AS_OF}`],
        ['units', `/units?asOf=${AS_OF}`],
        ['unit', `/units/U-500102-001?asOf=${AS_OF}`],
        ['violations', `/violations?asOf=${AS_OF}`],
        ['deadlines', '/deadlines?within=10'],
        ['contract', `/contracts/${C_STORY}?asOf=${AS_OF}`],
      ];
      for (const [name, path] of views) {
        await page.goto(`${t.url}${path}`);
        await page.locator('.el-table, .stat-grid').first().waitFor();
        await page.waitForLoadState('networkidle');
        found[name] = await axeViolations(page);
      }
      expect(found).toEqual(Object.fromEntries(Object.keys(found).map((k) => [k, []])));
      // keyboard: the skip link first, then the controls
      await page.keyboard.press('Tab');
      expect(await page.evaluate('document.activeElement?.className')).toContain('skip-link');
    });
  });
});
