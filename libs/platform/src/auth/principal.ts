import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { decodeJwt } from 'jose';
import { hasUnstorableText, isValidCreditCode } from '@app/contracts';

/** The roles of SPEC §1 (plus operations). One role per token, in the `role` claim. */
export const ROLES = ['platform', 'inspector', 'supplier', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/**
 * The authenticated caller, put on `req.user` by the auth guard. Only the claims of its role
 * are read: a supplier token's `regions` claim, say, is ignored.
 */
export interface Principal {
  role: Role;
  /** the token subject: who, for audit (event source, exemptions) and rate limits */
  sub?: string;
  /** platform: the procurement platform stamped on each event it sends */
  platformId?: string;
  /** supplier: its unified social credit code; it sees only its own contracts and payments */
  creditCode?: string;
  /** inspector: region-code prefixes it is limited to; absent = every region */
  regions?: string[];
}

/**
 * What the caller may see, as the read-model queries take it (`AccessScope` of
 * @app/projections has the same shape). Undefined = unrestricted.
 */
export interface PrincipalScope {
  regions?: string[];
  supplierCreditCode?: string;
}

/** What the auth guard puts on the request (see AuthenticatedRequest). */
type WithPrincipal = { user?: Principal; scope?: PrincipalScope };

/**
 * Route parameter: the authenticated caller (`req.user`, set by the auth guard); undefined on
 * a public route.
 */
export const Principal = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): Principal | undefined =>
    ctx.switchToHttp().getRequest<WithPrincipal>().user,
);

/**
 * Route parameter: the data scope of the authenticated caller (`req.scope`, set by the auth
 * guard); undefined = unrestricted.
 */
export const Scope = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): PrincipalScope | undefined =>
    ctx.switchToHttp().getRequest<WithPrincipal>().scope,
);

/**
 * Route parameter: the `exp` claim (seconds since the epoch) of the bearer token the auth
 * guard verified for this request; undefined on a public route. Read from the header again
 * rather than kept on the principal, which is shared by every request with the same token.
 */
export const TokenExpiry = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): number | undefined => {
    const req = ctx
      .switchToHttp()
      .getRequest<WithPrincipal & { headers: Record<string, unknown> }>();
    const header = req.headers.authorization;
    if (!req.user || typeof header !== 'string') return undefined;
    const exp = decodeJwt(header.replace(/^Bearer[ ]+/i, '').trim()).exp;
    return typeof exp === 'number' ? exp : undefined;
  },
);

export const PLATFORM_ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;
/** Region prefixes go into a SQL LIKE pattern: no `%` or `_` may ever get through. */
export const REGION_PREFIX_PATTERN = /^[0-9A-Za-z-]{1,32}$/;
const MAX_REGIONS = 200;
const MAX_SUB_LENGTH = 256;

/** A token whose claims do not describe a principal this service accepts. */
export class InvalidClaims extends Error {}

/** Reads a principal from verified JWT claims; throws InvalidClaims naming the claim. */
export function principalFromClaims(claims: Record<string, unknown>): Principal {
  const role = claims.role;
  if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role)) {
    throw new InvalidClaims(`the role claim must be one of ${ROLES.join(', ')}`);
  }
  const p: Principal = { role: role as Role };
  if (claims.sub !== undefined) {
    if (
      typeof claims.sub !== 'string' ||
      claims.sub.length === 0 ||
      claims.sub.length > MAX_SUB_LENGTH ||
      hasUnstorableText(claims.sub)
    ) {
      // the subject is stored with every event and exemption: it must be storable text
      throw new InvalidClaims(
        `the sub claim must be a string of 1 to ${MAX_SUB_LENGTH} characters (no U+0000, no unpaired surrogates)`,
      );
    }
    p.sub = claims.sub;
  }
  switch (p.role) {
    case 'platform':
      if (typeof claims.platformId !== 'string' || !PLATFORM_ID_PATTERN.test(claims.platformId)) {
        throw new InvalidClaims(
          'a platform token needs a platformId claim (1-64 of A-Z a-z 0-9 . _ : -)',
        );
      }
      p.platformId = claims.platformId;
      break;
    case 'supplier':
      if (!isValidCreditCode(claims.creditCode)) {
        throw new InvalidClaims(
          'a supplier token needs a creditCode claim: a valid unified social credit code',
        );
      }
      p.creditCode = claims.creditCode as string;
      break;
    case 'inspector':
      if (claims.regions !== undefined) {
        const r = claims.regions;
        if (
          !Array.isArray(r) ||
          r.length === 0 ||
          r.length > MAX_REGIONS ||
          !r.every((x) => typeof x === 'string' && REGION_PREFIX_PATTERN.test(x))
        ) {
          throw new InvalidClaims(
            `the regions claim must be a non-empty array (at most ${MAX_REGIONS}) of region-code prefixes`,
          );
        }
        p.regions = [...new Set(r as string[])];
      }
      break;
    case 'admin':
      break;
  }
  return p;
}

/** The data scope a principal's queries are limited to. */
export function scopeOfPrincipal(p: Principal): PrincipalScope | undefined {
  if (p.role === 'supplier') return { supplierCreditCode: p.creditCode };
  if (p.role === 'inspector' && p.regions) return { regions: p.regions };
  return undefined;
}

/** The rate-limit key of a principal: one budget per platform, else per subject. */
export function principalKey(p: Principal): string | undefined {
  if (p.platformId) return `platform:${p.platformId}`;
  if (p.sub) return `sub:${p.sub}`;
  return undefined;
}
