/**
 * Bearer tokens for the e2e tests. startTestApp configures JWT_SECRET = TEST_JWT_SECRET
 * (unless a test sets its own key) and primes one default token per role, so that request
 * builders can stay synchronous: `request(t.url).get(...).set(auth('inspector'))`.
 */
import { SignJWT } from 'jose';
import type { Role } from '@app/platform';
import { creditCode } from '@app/testing';

export const TEST_JWT_SECRET = 'e2e-only-secret-0123456789abcdefghijklmnopqrstuvwxyz';
/** The supplier of the default token: the default supplier of `ev.award`. */
export const TEST_SUPPLIER_CREDIT_CODE = creditCode(1);
export const TEST_PLATFORM_ID = 'test-platform';

export type Claims = Record<string, unknown>;

const DEFAULT_CLAIMS: Record<Role, Claims> = {
  platform: { sub: 'platform-e2e', platformId: TEST_PLATFORM_ID },
  inspector: { sub: 'inspector-e2e' },
  supplier: { sub: 'supplier-e2e', creditCode: TEST_SUPPLIER_CREDIT_CODE },
  admin: { sub: 'admin-e2e' },
};

/**
 * A signed HS256 token for a role; `claims` are merged over the role's defaults (a value of
 * `undefined` removes a default claim). `expiresIn` is in seconds, `secret` defaults to the
 * test secret.
 */
export async function tokenFor(
  role: Role,
  claims: Claims = {},
  opts: { expiresIn?: number; secret?: string } = {},
): Promise<string> {
  const all: Claims = { ...DEFAULT_CLAIMS[role], role, ...claims };
  for (const k of Object.keys(all)) if (all[k] === undefined) delete all[k];
  const now = Math.floor(Date.now() / 1000);
  let jwt = new SignJWT(all).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setIssuedAt(now);
  // an `exp` among the claims is kept as given
  if (all.exp === undefined) jwt = jwt.setExpirationTime(now + (opts.expiresIn ?? 3600));
  return jwt.sign(new TextEncoder().encode(opts.secret ?? TEST_JWT_SECRET));
}

/** `{Authorization: 'Bearer …'}` for a token. */
export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

const primed = new Map<Role, string>();

/** Signs the default token of every role (startTestApp calls it). */
export async function primeTokens(): Promise<void> {
  for (const role of ['platform', 'inspector', 'supplier', 'admin'] as const) {
    if (!primed.has(role)) primed.set(role, await tokenFor(role));
  }
}

/** The Authorization header of a role's default token (after startTestApp). */
export function auth(role: Role): { Authorization: string } {
  const token = primed.get(role);
  if (!token) throw new Error('auth(): no token primed; call startTestApp (or primeTokens) first');
  return bearer(token);
}

/**
 * The Authorization header of the role that normally calls a route: platform for POST
 * /v1/events, admin for /v1/admin/*, inspector for everything else (it reads all).
 */
export function authFor(method: string, path: string): { Authorization: string } {
  if (method.toUpperCase() === 'POST' && /^\/v1\/events\/?(\?|$)/.test(path))
    return auth('platform');
  if (path.startsWith('/v1/admin')) return auth('admin');
  return auth('inspector');
}
