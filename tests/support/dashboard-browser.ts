import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { chromiumLaunchOptions } from '@app/testing';

/** What a page did that a test must see: console errors, CSP violations, every request URL. */
export interface Watched {
  page: Page;
  context: BrowserContext;
  errors: string[];
  cspViolations: string[];
  requests: string[];
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch(chromiumLaunchOptions());
}

/** A fresh browser context (its own sessionStorage) and page, watched. */
export async function openPage(
  browser: Browser,
  opts: { locale?: string; viewport?: { width: number; height: number } } = {},
): Promise<Watched> {
  const context = await browser.newContext({
    locale: opts.locale ?? 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    viewport: opts.viewport ?? { width: 1440, height: 900 },
    acceptDownloads: true,
  });
  const page = await context.newPage();
  const w: Watched = { page, context, errors: [], cspViolations: [], requests: [] };
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const text = m.text();
    if (/Content Security Policy/i.test(text)) w.cspViolations.push(text);
    // the API's own 4xx answers are logged by Chromium as failed loads: expected in error tests
    else if (!/Failed to load resource/.test(text)) w.errors.push(text);
  });
  page.on('pageerror', (e) => w.errors.push(`pageerror: ${e.message}`));
  page.on('request', (r) => w.requests.push(r.url()));
  return w;
}

/** Signs in through the `#token=` fragment (the identity-portal link) at `path`. */
export async function signInWithFragment(
  page: Page,
  baseUrl: string,
  token: string,
  pathAndQuery = '/',
) {
  await page.goto(`${baseUrl}${pathAndQuery}#token=${token}`);
  await page.locator('[data-testid="role"]').waitFor();
}

const AXE = readFileSync(path.join(require.resolve('axe-core'), '..', 'axe.min.js'), 'utf8');

/** axe-core's serious and critical violations of the page as it is now. */
export async function axeViolations(
  page: Page,
): Promise<Array<{ id: string; impact: string; nodes: string[] }>> {
  // Colours are measured as rendered: a CSS transition still running (Element Plus fades a
  // button's colours when it becomes enabled, hovered or focused) would be measured half-way
  // and reported as a contrast violation (seen once in a run of .ci/run, on the webhook
  // form's submit button right after its URL field was filled). Wait for every finite
  // animation and transition to end first.
  await page.waitForFunction(
    () => {
      const g = globalThis as any;
      return (g.document.getAnimations() as any[]).every(
        (a) => a.playState !== 'running' || a.effect?.getComputedTiming().iterations === Infinity,
      );
    },
    undefined,
    { timeout: 5_000 },
  );
  // evaluated through the DevTools protocol, which the page's CSP does not govern
  await page.evaluate(AXE);
  const result = await page.evaluate(async () => {
    const g = globalThis as any;
    const r = await g.axe.run(g.document, { resultTypes: ['violations'] });
    return r.violations.map((v: any) => ({
      id: v.id as string,
      impact: v.impact as string,
      nodes: v.nodes.slice(0, 3).map((n: any) => String(n.target)),
    }));
  });
  return result.filter(
    (v: { impact: string }) => v.impact === 'serious' || v.impact === 'critical',
  );
}

/** Texts of the cells marked `data-field=name` inside `scope`, in document order. */
export async function fieldTexts(page: Page, scope: string, name: string): Promise<string[]> {
  return page.locator(`${scope} [data-field="${name}"]`).allInnerTexts();
}
