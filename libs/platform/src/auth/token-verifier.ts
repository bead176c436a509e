import {
  createRemoteJWKSet,
  errors,
  importSPKI,
  jwtVerify,
  type CryptoKey,
  type JWTVerifyGetKey,
} from 'jose';
import type { AuthConfig } from '../config';
import { InvalidClaims, principalFromClaims, type Principal } from './principal';
import { resolveHs256Secret } from './jwt-secret';

/** Clock skew tolerated on `exp` and `nbf`. */
export const CLOCK_TOLERANCE_SECONDS = 30;

/** Why a token was refused; the message is safe to show (it never contains the token). */
export class TokenRejected extends Error {
  constructor(
    message: string,
    /** true when the key source (JWKS endpoint) could not be reached: not the caller's fault */
    readonly unavailable = false,
  ) {
    super(message);
  }
}

type Key = Uint8Array | CryptoKey | JWTVerifyGetKey;

/**
 * Verifies bearer tokens with jose: one pinned algorithm (HS256 with a secret, or RS256 with
 * a public key or a JWKS), `exp` required, 30 s of clock skew, `iss`/`aud` when configured.
 * `alg: none` and any other algorithm are refused by the algorithm allow-list.
 */
export class TokenVerifier {
  /** most tokens kept verified; the oldest entry goes first */
  static readonly CACHE_MAX = 10_000;
  /** an entry is re-verified after this long, whatever the token's own `exp` */
  static readonly CACHE_TTL_MS = 5 * 60_000;
  /**
   * Tokens already verified, by their exact text (a client sends the same token for its
   * whole life; signature checking through WebCrypto was ~0.3 ms of every request). Only
   * successes are kept, each until its own `exp` with the same skew as above, and never past
   * CACHE_TTL_MS; a refused or expired token is always checked again.
   */
  private readonly verified = new Map<string, { principal: Principal; until: number }>();

  private constructor(
    private readonly key: Key,
    private readonly auth: AuthConfig,
  ) {}

  /** @param onGenerated called when no key was configured and the HS256 secret file is used */
  static async create(
    auth: AuthConfig,
    onGenerated?: (file: string, created: boolean) => void,
  ): Promise<TokenVerifier> {
    if (auth.jwksUrl) {
      return new TokenVerifier(
        createRemoteJWKSet(new URL(auth.jwksUrl), {
          timeoutDuration: 5000,
          cooldownDuration: 30_000,
        }),
        auth,
      );
    }
    if (auth.publicKeyPem)
      return new TokenVerifier(await importSPKI(auth.publicKeyPem, 'RS256'), auth);
    const s = resolveHs256Secret(auth);
    if (s.origin === 'file') onGenerated?.(auth.secretFile, s.created);
    return new TokenVerifier(new TextEncoder().encode(s.secret), auth);
  }

  get algorithm(): AuthConfig['algorithm'] {
    return this.auth.algorithm;
  }

  async verify(token: string): Promise<Principal> {
    const now = Date.now();
    const hit = this.verified.get(token);
    if (hit && now < hit.until) return hit.principal;
    if (hit) this.verified.delete(token);
    const { principal, exp } = await this.check(token);
    if (typeof exp === 'number') {
      if (this.verified.size >= TokenVerifier.CACHE_MAX)
        this.verified.delete(this.verified.keys().next().value!);
      this.verified.set(token, {
        principal,
        until: Math.min((exp + CLOCK_TOLERANCE_SECONDS) * 1000, now + TokenVerifier.CACHE_TTL_MS),
      });
    }
    return principal;
  }

  private async check(token: string): Promise<{ principal: Principal; exp: unknown }> {
    let payload: Record<string, unknown>;
    try {
      const options = {
        algorithms: [this.auth.algorithm],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['exp'],
        ...(this.auth.issuer !== undefined ? { issuer: this.auth.issuer } : {}),
        ...(this.auth.audience !== undefined ? { audience: this.auth.audience } : {}),
      };
      // the overloads differ by key type only; both branches are the same call
      ({ payload } =
        typeof this.key === 'function'
          ? await jwtVerify(token, this.key, options)
          : await jwtVerify(token, this.key, options));
    } catch (err) {
      throw rejection(err, this.auth.jwksUrl !== undefined);
    }
    try {
      return { principal: Object.freeze(principalFromClaims(payload)), exp: payload.exp };
    } catch (err) {
      if (err instanceof InvalidClaims) throw new TokenRejected(err.message);
      throw err;
    }
  }
}

function rejection(err: unknown, remoteKeys: boolean): TokenRejected {
  if (err instanceof errors.JWTExpired) return new TokenRejected('the token has expired');
  if (err instanceof errors.JWKSTimeout)
    return new TokenRejected('the key set could not be fetched', true);
  if (err instanceof errors.JOSEError) {
    // jose's own messages name the failed check (signature, claim, algorithm), never the token
    return new TokenRejected(`the token is not valid: ${err.message}`);
  }
  // with remote keys, anything else is the JWKS fetch failing (network, HTTP status, JSON)
  if (remoteKeys) return new TokenRejected('the key set could not be fetched', true);
  return new TokenRejected('the token is not valid');
}
