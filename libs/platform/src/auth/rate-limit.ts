import { Injectable, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  ThrottlerGuard,
  type ThrottlerLimitDetail,
  type ThrottlerModuleOptions,
} from '@nestjs/throttler';
import type { Response } from 'express';
import type { AppConfig } from '../config';
import {
  ACCESS_POLICY,
  RATE_LIMIT_BUCKET,
  type AccessPolicy,
  type RateLimitBucket,
} from './access-policy';
import { principalKey, type Principal } from './principal';
import { WindowThrottlerStorage } from './window-throttler-storage';

const MINUTE_MS = 60_000;
const reflector = new Reflector();

function bucketOf(ctx: ExecutionContext): RateLimitBucket | 'none' {
  const targets = [ctx.getHandler(), ctx.getClass()];
  const policy = reflector.getAllAndOverride<AccessPolicy | undefined>(ACCESS_POLICY, targets);
  if (policy?.kind === 'public') return 'none';
  return (
    reflector.getAllAndOverride<RateLimitBucket | undefined>(RATE_LIMIT_BUCKET, targets) ?? 'query'
  );
}

/**
 * Two budgets per principal per minute, shared by all routes of a kind: `ingest` (POST
 * /v1/events) and `query` (everything else behind a token). Public routes are not limited.
 * Counters are kept per instance (in memory): N replicas allow N times the budget.
 */
export function throttlerOptions(config: AppConfig): ThrottlerModuleOptions {
  return {
    throttlers: [
      {
        name: 'ingest',
        ttl: MINUTE_MS,
        limit: config.rateLimit.ingestPerMin,
        skipIf: (c) => bucketOf(c) !== 'ingest',
      },
      {
        name: 'query',
        ttl: MINUTE_MS,
        limit: config.rateLimit.queryPerMin,
        skipIf: (c) => bucketOf(c) !== 'query',
      },
    ],
    // one budget per principal and kind, not per route
    generateKey: (_ctx, tracker, name) => `${name}|${tracker}`,
    // a request costs the same whatever the limit (see there)
    storage: new WindowThrottlerStorage(),
    errorMessage: 'too many requests: retry after the number of seconds in Retry-After',
  };
}

/**
 * Keys the budgets by the authenticated principal (platformId, else sub), else by client IP.
 * Registered after AuthGuard, so `req.user` is set when there is one.
 */
@Injectable()
export class PrincipalThrottlerGuard extends ThrottlerGuard {
  protected override async getTracker(req: Record<string, unknown>): Promise<string> {
    const user = req.user as Principal | undefined;
    return (user && principalKey(user)) ?? `ip:${await super.getTracker(req)}`;
  }

  protected override async throwThrottlingException(
    ctx: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ): Promise<void> {
    ctx
      .switchToHttp()
      .getResponse<Response>()
      .setHeader('Retry-After', String(Math.max(1, detail.timeToBlockExpire)));
    return super.throwThrottlingException(ctx, detail);
  }
}
