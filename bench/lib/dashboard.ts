import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { chromiumLaunchOptions } from '@app/testing';

const ASSETS = path.resolve(__dirname, '..', '..', 'dist', 'dashboard', 'assets');

export interface Chunk {
  file: string;
  raw: number;
  /** gzip level 9: what a compressing proxy would send (the monitor serves them as they are) */
  gzip: number;
}

/** The dashboard's built chunks (dist/dashboard/assets), largest (gzip) first. */
export function dashboardChunks(): Chunk[] {
  return readdirSync(ASSETS)
    .filter((f) => f.endsWith('.js') || f.endsWith('.css'))
    .map((f) => ({
      file: f,
      raw: statSync(path.join(ASSETS, f)).size,
      gzip: gzipSync(readFileSync(path.join(ASSETS, f)), { level: 9 }).length,
    }))
    .sort((a, b) => b.gzip - a.gzip);
}

export interface OverviewTiming {
  loads: number;
  /** navigation → the figures and the heat map drawn, per cold load, sorted */
  ms: number[];
  medianMs: number;
  /** the JavaScript files the overview loaded, and their gzip size in all */
  jsFiles: number;
  jsGzipBytes: number;
}

/**
 * Times cold loads of the overview in real Chromium (a fresh context each: no cache, no
 * session), signed in through the `#token=` fragment: HTML, the chunks, `/v1/me`, then
 * `/v1/overview`, `/v1/trends` and `/v1/regions`, until the figures and the heat map are drawn.
 */
export async function timeOverview(
  baseUrl: string,
  inspectorToken: string,
  opts: { asOf?: string; loads?: number } = {},
): Promise<OverviewTiming> {
  const loads = opts.loads ?? 5;
  const browser = await chromium.launch(chromiumLaunchOptions());
  try {
    const ms: number[] = [];
    let js: string[] = [];
    for (let i = 0; i < loads; i++) {
      const context = await browser.newContext({
        locale: 'zh-CN',
        timezoneId: 'Asia/Shanghai',
        viewport: { width: 1440, height: 900 },
      });
      const page = await context.newPage();
      const seen: string[] = [];
      page.on('response', (r) => {
        if (r.url().endsWith('.js')) seen.push(path.basename(new URL(r.url()).pathname));
      });
      const query = opts.asOf ? `?asOf=${opts.asOf}` : '';
      const t0 = Date.now();
      await page.goto(`${baseUrl}/overview${query}#token=${inspectorToken}`);
      await page
        .locator('[data-testid="overview-stats"] [data-field="onTimeRate"]')
        .waitFor({ timeout: 120_000 });
      await page.locator('[data-testid="heatmap"] canvas').first().waitFor({ timeout: 120_000 });
      ms.push(Date.now() - t0);
      js = seen;
      await context.close();
    }
    ms.sort((a, b) => a - b);
    const sizes = new Map(dashboardChunks().map((c) => [c.file, c.gzip]));
    const loaded = js.filter((f) => sizes.has(f));
    return {
      loads,
      ms,
      medianMs: ms[Math.floor(ms.length / 2)],
      jsFiles: loaded.length,
      jsGzipBytes: loaded.reduce((s, f) => s + sizes.get(f)!, 0),
    };
  } finally {
    await browser.close();
  }
}
