import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';

/**
 * Real Chromium for the dashboard suites (tests/browser): Debian's `chromium`, driven by
 * playwright-core (its own browser download cannot work here). CHROMIUM_PATH overrides the
 * default /usr/bin/chromium. Without it the suites are skipped loudly; under CI=true they fail.
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** `describe` for suites that need Chromium (see describeWithKafka: the same rules). */
export function describeWithBrowser(name: string, fn: () => void): void {
  if (existsSync(CHROMIUM_PATH)) {
    describe(name, fn);
    return;
  }
  const reason = `no Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set CHROMIUM_PATH)`;
  describe(name, () => {
    if (process.env.CI === 'true') {
      it(`needs Chromium, and CI=true: ${reason}`, () => {
        throw new Error(`browser suite "${name}" cannot run: ${reason}`);
      });
      return;
    }
    console.warn(`\n!!! browser suite "${name}" SKIPPED: ${reason}\n`);
    it.skip(`SKIPPED, no Chromium: ${reason}`, () => undefined);
  });
}

/** Launch options for playwright-core's chromium.launch. */
export function chromiumLaunchOptions() {
  return {
    executablePath: CHROMIUM_PATH,
    headless: true,
    // root in CI and containers: Chromium's sandbox needs user namespaces it may not have
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--lang=zh-CN'],
  };
}

/** True when the selected test paths include a browser suite (or no paths were given). */
export function browserSuitesSelected(rootDir: string, patterns: readonly string[]): boolean {
  if (patterns.length === 0) return true;
  const probe = path.join(rootDir, 'tests', 'browser', 'dashboard.e2e-spec.ts');
  return patterns.some((p) => {
    try {
      if (new RegExp(p, 'i').test(probe)) return true;
    } catch {
      return true;
    }
    const abs = path.resolve(rootDir, p);
    return probe.startsWith(abs) || abs.startsWith(path.join(rootDir, 'tests', 'browser'));
  });
}

function newestMtime(p: string): number {
  const s = statSync(p);
  if (!s.isDirectory()) return s.mtimeMs;
  let newest = s.mtimeMs;
  for (const e of readdirSync(p)) newest = Math.max(newest, newestMtime(path.join(p, e)));
  return newest;
}

/**
 * Builds the dashboard (vite) into dist/dashboard when it is missing or older than any of its
 * sources, its config or the lock file; a no-op otherwise (CI's second run under Node 26).
 */
export function ensureDashboardBuilt(rootDir: string): void {
  const index = path.join(rootDir, 'dist', 'dashboard', 'index.html');
  const sources = [
    path.join(rootDir, 'apps', 'dashboard'),
    path.join(rootDir, 'package-lock.json'),
  ].filter((p) => existsSync(p));
  if (existsSync(index) && statSync(index).mtimeMs >= Math.max(...sources.map(newestMtime))) {
    return;
  }
  const started = Date.now();
  console.log(
    '\n[test] building the dashboard (dist/dashboard is missing or older than its sources)',
  );
  execFileSync(
    process.execPath,
    [
      path.join(rootDir, 'node_modules', 'vite', 'bin', 'vite.js'),
      'build',
      '--config',
      path.join(rootDir, 'apps', 'dashboard', 'vite.config.mjs'),
      '--logLevel',
      'warn',
    ],
    { cwd: rootDir, stdio: ['ignore', 'inherit', 'inherit'] },
  );
  console.log(`[test] dashboard built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
