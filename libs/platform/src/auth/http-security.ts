import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import type { AppConfig } from '../config';

/** Paths of the service itself; everything else belongs to the web dashboard (SPEC §9). */
export function isServicePath(path: string, docsPath = 'docs'): boolean {
  return /^\/(v1|health|metrics)(\/|$)/.test(path) || path.startsWith(`/${docsPath}`);
}

/**
 * Security headers and CORS. The API answers JSON and CSV only, so its CSP allows nothing;
 * the Swagger UI under `docs/` needs its own scripts, inline styles and data: images.
 * The dashboard (every other path) runs only its own scripts (no inline script, no eval);
 * see dashboardCsp for what else it needs. CORS stays closed (no CORS headers) unless
 * CORS_ORIGINS lists the allowed origins.
 */
export function applyHttpSecurity(
  app: NestExpressApplication,
  config: AppConfig,
  docsPath = 'docs',
): void {
  const api = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
    },
  });
  const docs = helmet({
    contentSecurityPolicy: {
      useDefaults: true,
      // plain http deployments must still load the UI's own assets
      directives: {
        upgradeInsecureRequests: null,
        frameAncestors: ["'none'"],
        connectSrc: ["'self'"],
      },
    },
  });
  const dashboard = helmet({ contentSecurityPolicy: dashboardCsp(config) });
  const prefix = `/${docsPath}`;
  app.use((req: Request, res: Response, next: NextFunction) =>
    req.path === prefix || req.path.startsWith(`${prefix}/`) || req.path.startsWith(`${prefix}-`)
      ? docs(req, res, next)
      : isServicePath(req.path, docsPath)
        ? api(req, res, next)
        : dashboard(req, res, next),
  );
  if (config.corsOrigins.length > 0) {
    app.enableCors({
      origin: config.corsOrigins,
      methods: ['GET', 'POST', 'PUT'],
      allowedHeaders: ['Authorization', 'Content-Type', 'Accept', 'X-Correlation-Id'],
      exposedHeaders: ['X-Correlation-Id', 'Retry-After', 'Content-Disposition'],
      credentials: false,
      maxAge: 600,
    });
  }
}

/**
 * The dashboard's CSP. Scripts: only the built files of our own origin (Vite emits no inline
 * script; Vue templates are precompiled and vue-i18n compiles messages without eval).
 * Styles: our own files plus `'unsafe-inline'`, because Element Plus and ECharts position
 * poppers, tooltips, table columns and dialogs with inline `style` attributes set at run time
 * (scripts stay locked down; an injected style cannot run code). Images: `data:` too, for the
 * small icons Vite inlines and ECharts' own. Connections: our API, and the OIDC provider when
 * one is configured (the page reads its discovery document and exchanges the code there).
 */
export function dashboardCsp(config: AppConfig) {
  const oidc = config.dashboard.oidc ? [new URL(config.dashboard.oidc.issuer).origin] : [];
  return {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
      fontSrc: ["'self'", 'data:'],
      connectSrc: ["'self'", ...oidc],
      objectSrc: ["'none'"],
      baseUri: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
  };
}
