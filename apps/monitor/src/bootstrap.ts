import 'reflect-metadata';
import { Logger, ValidationPipe, type INestApplication, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import {
  AllExceptionsFilter,
  AppLogger,
  InvalidEncoding,
  codesMarkdown,
  ValidationFailed,
  refuseUnstorableUrls,
  applyHttpSecurity,
  correlationMiddleware,
  HttpMetrics,
  requestLogMiddleware,
} from '@app/platform';
import type { ValidationError } from 'class-validator';
import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import bodyParser from 'body-parser';
import type { Request } from 'express';
import { DataQualityCodes } from '@app/domain';
import { AppModule, type AppModuleOptions } from './app.module';
import { serveDashboard } from './dashboard/serve-dashboard';

/**
 * Builds the Nest application (used by main.ts and by the e2e tests). Every Nest Logger logs
 * through `logger` (default: an AppLogger at LOG_LEVEL: JSON lines on stdout).
 */
export async function createApp(
  opts: AppModuleOptions & { logger?: LoggerService },
): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(opts), {
    bodyParser: false,
    logger: opts.logger ?? new AppLogger(opts.config.logLevel),
  });
  app.disable('x-powered-by');
  app.use(correlationMiddleware);
  app.use(app.get(HttpMetrics).middleware);
  app.use(requestLogMiddleware);
  applyHttpSecurity(app, opts.config, 'docs');
  app.use(refuseUnstorableUrls);
  serveDashboard(app, opts.config);
  // JSON bodies of every route but POST /v1/events, which reads its own after authentication
  // (see request-body.ts). Invalid UTF-8 is refused, never replaced with U+FFFD.
  app.use(
    bodyParser.json({
      limit: opts.config.bodyLimit,
      strict: false,
      // (Express has given every request its `is()` before the first middleware runs)
      type: (req: IncomingMessage) =>
        !(req.method === 'POST' && isEventsPath(req.url)) &&
        (req as Request).is(['application/json', 'application/*+json']) !== false,
      verify: (_req: IncomingMessage, _res: unknown, buf: Buffer) => {
        if (!isUtf8(buf)) throw new InvalidEncoding();
      },
    }),
  );

  app.useGlobalFilters(new AllExceptionsFilter());
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      exceptionFactory: (errors) =>
        new ValidationFailed('the request is not valid', fieldErrors(errors)),
    }),
  );
  const doc = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Procurement contract compliance monitor')
      .setDescription(
        `Event ingestion and compliance queries; see SPEC.md for the rules.\n\n${codesMarkdown(
          Object.values(DataQualityCodes),
        )}`,
      )
      .setVersion('1')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('docs', app, doc, { jsonDocumentUrl: 'docs/openapi.json' });
  return app;
}

function isEventsPath(url: string | undefined): boolean {
  const path = (url ?? '').split('?')[0].replace(/\/+$/, '');
  return path === '/v1/events';
}

function fieldErrors(
  errors: ValidationError[],
  prefix = '',
): Array<{ path: string; message: string }> {
  return errors.flatMap((e) => {
    const path = prefix ? `${prefix}.${e.property}` : e.property;
    return [
      ...Object.values(e.constraints ?? {}).map((message) => ({ path, message })),
      ...fieldErrors(e.children ?? [], path),
    ];
  });
}

export const bootLogger = new Logger('Bootstrap');
