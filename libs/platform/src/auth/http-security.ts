import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import type { AppConfig } from '../config';

/**
 * Security headers and CORS. The API answers JSON and CSV only, so its CSP allows nothing;
 * the Swagger UI under `docs/` needs its own scripts, inline styles and data: images.
 * CORS stays closed (no CORS headers) unless CORS_ORIGINS lists the allowed origins.
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
  const prefix = `/${docsPath}`;
  app.use((req: Request, res: Response, next: NextFunction) =>
    req.path === prefix || req.path.startsWith(`${prefix}/`) || req.path.startsWith(`${prefix}-`)
      ? docs(req, res, next)
      : api(req, res, next),
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
