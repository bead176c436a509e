import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { Role } from './principal';

/** Metadata key of a route's access policy (handler overrides controller). */
export const ACCESS_POLICY = 'monitor:access-policy';
/** Metadata key of a route's rate-limit budget. */
export const RATE_LIMIT_BUCKET = 'monitor:rate-limit-bucket';

export type AccessPolicy = { kind: 'public' } | { kind: 'roles'; roles: readonly Role[] };
export type RateLimitBucket = 'ingest' | 'query';

/**
 * The roles that may call a route (on a handler, or on a controller for all its handlers).
 * A route without `@Roles` or `@Public` is refused to everyone: new routes fail closed.
 * Data scoping (supplier, region-limited inspector) is applied by the route on top.
 */
export function Roles(...roles: [Role, ...Role[]]): ClassDecorator & MethodDecorator {
  return applyDecorators(
    SetMetadata(ACCESS_POLICY, { kind: 'roles', roles } satisfies AccessPolicy),
    ApiBearerAuth(),
    ApiUnauthorizedResponse({
      description: 'AUTH.UNAUTHORIZED: no token, or an invalid or expired one',
    }),
    ApiForbiddenResponse({ description: `AUTH.FORBIDDEN: only ${roles.join(', ')} may call this` }),
  );
}

/** Open to anyone without a token (health, metrics). */
export function Public(): ClassDecorator & MethodDecorator {
  return SetMetadata(ACCESS_POLICY, { kind: 'public' } satisfies AccessPolicy);
}

/** Which per-principal budget a route draws on; authenticated routes default to `query`. */
export function RateLimit(bucket: RateLimitBucket): ClassDecorator & MethodDecorator {
  return SetMetadata(RATE_LIMIT_BUCKET, bucket);
}
