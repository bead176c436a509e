import { Injectable } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { Histogram } from 'prom-client';
import { Metrics } from './metrics';

/** Seconds; up to a minute for the CSV export of every violation. */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** The route label of a request that matched no route (a 404 of the router). */
export const UNMATCHED_ROUTE = '(unmatched)';

/**
 * The route pattern a request matched (`/v1/contracts/:contractId`), never its raw URL: ids
 * and query strings stay out of the labels (and out of the logs, which use it too).
 */
export function routeOf(req: Request): string {
  const route = (req as Request & { route?: { path?: unknown } }).route;
  if (route && typeof route.path === 'string') return `${req.baseUrl ?? ''}${route.path}`;
  return UNMATCHED_ROUTE;
}

/** `http_request_duration_seconds{method,route,status_code}`: one observation per request. */
@Injectable()
export class HttpMetrics {
  private readonly duration: Histogram<'method' | 'route' | 'status_code'>;

  constructor(metrics: Metrics) {
    this.duration = metrics.histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP requests by route pattern, method and status code: time until the response was sent (status_code "aborted": the client went away first).',
      labelNames: ['method', 'route', 'status_code'],
      buckets: BUCKETS,
    });
  }

  /** Express middleware; install before the routes. */
  readonly middleware = (req: Request, res: Response, next: NextFunction): void => {
    const started = process.hrtime.bigint();
    let done = false;
    const observe = (finished: boolean) => {
      if (done) return;
      done = true;
      this.duration.observe(
        {
          method: req.method,
          route: routeOf(req),
          status_code: finished ? String(res.statusCode) : 'aborted',
        },
        Number(process.hrtime.bigint() - started) / 1e9,
      );
    };
    res.once('finish', () => observe(true));
    res.once('close', () => observe(res.writableFinished));
    next();
  };
}
