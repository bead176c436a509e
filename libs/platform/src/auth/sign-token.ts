import { SignJWT } from 'jose';
import type { AuthConfig } from '../config';
import { resolveHs256Secret } from './jwt-secret';
import { principalFromClaims, type Principal } from './principal';

/** `30m`, `1h`, `7d`, or seconds. */
export const TTL_PATTERN = /^\d+\s*(s|sec|secs|m|min|mins|h|hr|hrs|d|day|days)?$/;

/**
 * Signs an HS256 token with the configured (or generated) secret, for `npm run token` and
 * single-node setups. RS256 deployments get their tokens from their identity provider.
 * The claims are checked as the service will check them, so no unusable token is printed.
 */
export async function signHs256Token(
  auth: AuthConfig,
  principal: Principal,
  ttl = '1h',
): Promise<string> {
  if (!TTL_PATTERN.test(ttl))
    throw new Error(`--ttl must look like 30m, 1h, 7d or a number of seconds, got "${ttl}"`);
  const claims: Record<string, unknown> = { ...principal };
  delete claims.sub;
  principalFromClaims({ ...claims, sub: principal.sub });
  const { secret } = resolveHs256Secret(auth);
  let jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt()
    .setExpirationTime(/^\d+$/.test(ttl) ? `${ttl}s` : ttl);
  if (principal.sub !== undefined) jwt = jwt.setSubject(principal.sub);
  if (auth.issuer !== undefined) jwt = jwt.setIssuer(auth.issuer);
  if (auth.audience !== undefined) jwt = jwt.setAudience(auth.audience);
  return jwt.sign(new TextEncoder().encode(secret));
}
