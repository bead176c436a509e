import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import express, { type NextFunction, type Request, type Response } from 'express';
import { isServicePath, type AppConfig } from '@app/platform';

/** Where `npm run build` puts the dashboard: dist/dashboard (Vite's outDir). */
export function dashboardDir(config: AppConfig): string {
  if (config.dashboard.dir) return config.dashboard.dir;
  // dist/apps/monitor/src → dist/dashboard; from the sources (tests) apps/monitor/src → dist/dashboard
  const root = path.resolve(__dirname, '../../../..');
  const candidates = [path.join(root, 'dashboard'), path.join(root, 'dist', 'dashboard')];
  return candidates.find((d) => existsSync(path.join(d, 'index.html'))) ?? candidates[1];
}

const IMMUTABLE = 'public, max-age=31536000, immutable';

/**
 * Serves the built dashboard (SPEC §9) at `/`: its files, and index.html for every other
 * page path (deep links such as /units/{code} are routes of the single-page app). Paths of
 * the service (/v1, /docs, /health, /metrics) are never touched, so an unknown /v1 route
 * stays a JSON 404. Vite's hashed files under /assets/ never change: cached for a year;
 * index.html is revalidated on every load (no-cache) so a new build is picked up at once.
 * When the dashboard was not built, page paths answer 503 with a message saying how.
 */
export function serveDashboard(app: NestExpressApplication, config: AppConfig): void {
  const dir = dashboardDir(config);
  const index = path.join(dir, 'index.html');
  const built = existsSync(index);
  const files = express.static(dir, {
    index: false,
    redirect: false,
    fallthrough: true,
    setHeaders: (res, file) => {
      const rel = path.relative(dir, file).split(path.sep).join('/');
      res.setHeader('Cache-Control', rel.startsWith('assets/') ? IMMUTABLE : 'no-cache');
    },
  });
  app.use((req: Request, res: Response, next: NextFunction) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || isServicePath(req.path)) return next();
    if (!built) {
      res
        .status(503)
        .type('text/plain; charset=utf-8')
        .setHeader('Cache-Control', 'no-store')
        .send(
          'The web dashboard has not been built. Run `npm run build` (or `npm start`, which builds it),\n' +
            `or set DASHBOARD_DIR to a built dashboard (looked for ${index}).\n` +
            '仪表盘尚未构建：请运行 npm run build。The API is served under /v1, its description at /docs.\n',
        );
      return;
    }
    files(req, res, () => {
      // a missing hashed file is a 404, not the page (a stale index.html would loop)
      if (req.path.startsWith('/assets/')) return next();
      res.setHeader('Cache-Control', 'no-cache');
      res.sendFile(index);
    });
  });
}
