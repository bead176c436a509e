import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { exportSPKI, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { ConfigError, loadConfig, type AuthConfig } from '../config';
import { AppError } from '../errors';
import { Public, Roles } from './access-policy';
import { AuthGuard, type AuthenticatedRequest } from './auth.guard';
import { resolveHs256Secret } from './jwt-secret';
import { principalFromClaims, principalKey, scopeOfPrincipal } from './principal';
import { signHs256Token } from './sign-token';
import { TokenRejected, TokenVerifier } from './token-verifier';

const SECRET = 'unit-test-secret-0123456789abcdefghijklmnop';
const CREDIT_CODE = '91500102MA5U7QXX2B';
const enc = (s: string) => new TextEncoder().encode(s);
const now = () => Math.floor(Date.now() / 1000);
const hsAuth = (over: Partial<AuthConfig> = {}): AuthConfig => ({
  ...loadConfig({ JWT_SECRET: SECRET }).auth,
  ...over,
});

async function hs(
  claims: Record<string, unknown>,
  opts: { exp?: number | null; secret?: string; alg?: 'HS256' | 'HS384' } = {},
) {
  let jwt = new SignJWT(claims).setProtectedHeader({ alg: opts.alg ?? 'HS256' }).setIssuedAt();
  if (opts.exp !== null) jwt = jwt.setExpirationTime(opts.exp ?? now() + 600);
  return jwt.sign(enc(opts.secret ?? SECRET));
}

describe('principalFromClaims', () => {
  it('reads each role and only its claims', () => {
    expect(
      principalFromClaims({ role: 'platform', platformId: 'gov-cq', sub: 'p1', regions: ['5001'] }),
    ).toEqual({
      role: 'platform',
      platformId: 'gov-cq',
      sub: 'p1',
    });
    expect(principalFromClaims({ role: 'supplier', creditCode: CREDIT_CODE })).toEqual({
      role: 'supplier',
      creditCode: CREDIT_CODE,
    });
    expect(
      principalFromClaims({ role: 'inspector', regions: ['500102', '500102', '5002'] }),
    ).toEqual({
      role: 'inspector',
      regions: ['500102', '5002'],
    });
    expect(principalFromClaims({ role: 'admin', platformId: 'x' })).toEqual({ role: 'admin' });
  });

  it.each([
    [{}],
    [{ role: 'root' }],
    [{ role: 'platform' }],
    [{ role: 'platform', platformId: 'a b' }],
    [{ role: 'supplier', creditCode: '91500102MA5U7QXX2C' }],
    [{ role: 'inspector', regions: [] }],
    [{ role: 'inspector', regions: '500102' }],
    [{ role: 'inspector', regions: ['50%'] }],
    [{ role: 'inspector', regions: ['5001_'] }],
    [{ role: 'admin', sub: '' }],
    [{ role: 'admin', sub: 42 }],
  ])('refuses %j', (claims) => {
    expect(() => principalFromClaims(claims)).toThrow();
  });

  it('scopes suppliers to their code and region-limited inspectors to their regions', () => {
    expect(scopeOfPrincipal({ role: 'supplier', creditCode: CREDIT_CODE })).toEqual({
      supplierCreditCode: CREDIT_CODE,
    });
    expect(scopeOfPrincipal({ role: 'inspector', regions: ['5001'] })).toEqual({
      regions: ['5001'],
    });
    expect(scopeOfPrincipal({ role: 'inspector' })).toBeUndefined();
    expect(scopeOfPrincipal({ role: 'admin' })).toBeUndefined();
    expect(principalKey({ role: 'platform', platformId: 'gov', sub: 'x' })).toBe('platform:gov');
    expect(principalKey({ role: 'inspector', sub: 'x' })).toBe('sub:x');
    expect(principalKey({ role: 'inspector' })).toBeUndefined();
  });
});

describe('TokenVerifier (HS256)', () => {
  let v: TokenVerifier;
  beforeAll(async () => {
    v = await TokenVerifier.create(hsAuth());
  });

  it('accepts a signed token with exp, tolerating 30 s of clock skew', async () => {
    await expect(v.verify(await hs({ role: 'admin', sub: 'a' }))).resolves.toEqual({
      role: 'admin',
      sub: 'a',
    });
    await expect(v.verify(await hs({ role: 'admin' }, { exp: now() - 10 }))).resolves.toEqual({
      role: 'admin',
    });
  });

  it('keeps a verified token only until its exp (plus the skew)', async () => {
    const token = await hs({ role: 'admin', sub: 'c' }, { exp: now() + 5 });
    const w = await TokenVerifier.create(hsAuth());
    await expect(w.verify(token)).resolves.toEqual({ role: 'admin', sub: 'c' });
    await expect(w.verify(token)).resolves.toEqual({ role: 'admin', sub: 'c' });
    // 40 s later (past exp + 30 s): only the clock moves
    jest.useFakeTimers({
      now: Date.now() + 40_000,
      doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask', 'setTimeout', 'setInterval'],
    });
    try {
      await expect(w.verify(token)).rejects.toBeInstanceOf(TokenRejected);
    } finally {
      jest.useRealTimers();
    }
  });

  it.each<[string, () => Promise<string>]>([
    ['expired beyond the skew', () => hs({ role: 'admin' }, { exp: now() - 60 })],
    ['without exp', () => hs({ role: 'admin' }, { exp: null })],
    ['signed with another secret', () => hs({ role: 'admin' }, { secret: `${SECRET}x` })],
    ['another HMAC algorithm', () => hs({ role: 'admin' }, { alg: 'HS384' })],
    ['alg none', async () => new UnsecuredJWT({ role: 'admin' }).setExpirationTime('1h').encode()],
    [
      'not before in the future',
      () =>
        new SignJWT({ role: 'admin' })
          .setProtectedHeader({ alg: 'HS256' })
          .setNotBefore(now() + 120)
          .setExpirationTime('1h')
          .sign(enc(SECRET)),
    ],
    [
      'a tampered payload',
      async () => {
        const [h, , s] = (await hs({ role: 'inspector', regions: ['5001'] })).split('.');
        const p = Buffer.from(JSON.stringify({ role: 'inspector', exp: now() + 600 })).toString(
          'base64url',
        );
        return `${h}.${p}.${s}`;
      },
    ],
    ['garbage', async () => 'a.b.c'],
    ['an unusable principal', () => hs({ role: 'platform' })],
  ])('refuses a token %s', async (_name, make) => {
    await expect(v.verify(await make())).rejects.toBeInstanceOf(TokenRejected);
  });

  it('checks iss and aud when configured', async () => {
    const strict = await TokenVerifier.create(
      hsAuth({ issuer: 'https://idp.example', audience: 'monitor' }),
    );
    const ok = await new SignJWT({ role: 'admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('https://idp.example')
      .setAudience('monitor')
      .setExpirationTime('5m')
      .sign(enc(SECRET));
    await expect(strict.verify(ok)).resolves.toEqual({ role: 'admin' });
    await expect(strict.verify(await hs({ role: 'admin' }))).rejects.toBeInstanceOf(TokenRejected);
    const wrongAud = await new SignJWT({ role: 'admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('https://idp.example')
      .setAudience('other')
      .setExpirationTime('5m')
      .sign(enc(SECRET));
    await expect(strict.verify(wrongAud)).rejects.toBeInstanceOf(TokenRejected);
  });
});

describe('TokenVerifier (RS256)', () => {
  it('accepts RS256 from the configured key and refuses HS256 signed with the public key (algorithm switching)', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const pem = await exportSPKI(publicKey);
    const v = await TokenVerifier.create(loadConfig({ JWT_PUBLIC_KEY: pem }).auth);
    const rs = await new SignJWT({ role: 'admin' })
      .setProtectedHeader({ alg: 'RS256' })
      .setExpirationTime('5m')
      .sign(privateKey);
    await expect(v.verify(rs)).resolves.toEqual({ role: 'admin' });
    await expect(v.verify(await hs({ role: 'admin' }, { secret: pem }))).rejects.toBeInstanceOf(
      TokenRejected,
    );
    await expect(v.verify(await hs({ role: 'admin' }))).rejects.toBeInstanceOf(TokenRejected);
  });
});

describe('auth configuration', () => {
  it('fails fast naming the variable', () => {
    expect(() => loadConfig({ JWT_SECRET: 'short' })).toThrow(/JWT_SECRET/);
    expect(() => loadConfig({ JWT_PUBLIC_KEY: 'not a key' })).toThrow(/JWT_PUBLIC_KEY/);
    expect(() => loadConfig({ JWT_JWKS_URL: 'http://idp.example/jwks' })).toThrow(/JWT_JWKS_URL/);
    expect(() =>
      loadConfig({ JWT_SECRET: SECRET, JWT_JWKS_URL: 'https://idp.example/jwks' }),
    ).toThrow(/JWT_SECRET/);
    expect(() => loadConfig({ RATE_LIMIT_QUERY_PER_MIN: '0' })).toThrow(/RATE_LIMIT_QUERY_PER_MIN/);
    expect(() => loadConfig({ CORS_ORIGINS: '*' })).toThrow(/CORS_ORIGINS/);
    expect(() => loadConfig({ JWT_SECRET: 'short' })).toThrow(ConfigError);
  });

  it('never echoes a secret in its messages', () => {
    const secret = 'tooShortButSecret';
    try {
      loadConfig({ JWT_SECRET: secret });
    } catch (e) {
      expect((e as Error).message).not.toContain(secret);
    }
  });

  it('reads defaults and CORS origins', () => {
    const c = loadConfig({ CORS_ORIGINS: 'https://a.example, http://localhost:5173/' });
    expect(c.corsOrigins).toEqual(['https://a.example', 'http://localhost:5173']);
    expect(c.rateLimit).toEqual({ ingestPerMin: 600, queryPerMin: 1200 });
    expect(c.auth.algorithm).toBe('HS256');
    expect(loadConfig({ DATABASE_URL: 'postgres://x/y' }).auth.warnOnGeneratedSecret).toBe(true);
    expect(
      loadConfig({ DATABASE_URL: 'postgres://x/y', JWT_SECRET: SECRET }).auth.warnOnGeneratedSecret,
    ).toBe(false);
  });

  it('the token script signs what the verifier accepts, and refuses claims it would refuse', async () => {
    const auth = hsAuth();
    expect(resolveHs256Secret(auth)).toEqual({
      secret: SECRET,
      origin: 'JWT_SECRET',
      created: false,
    });
    const token = await signHs256Token(
      auth,
      { role: 'inspector', sub: 'cli', regions: ['5001'] },
      '10m',
    );
    await expect((await TokenVerifier.create(auth)).verify(token)).resolves.toEqual({
      role: 'inspector',
      sub: 'cli',
      regions: ['5001'],
    });
    await expect(signHs256Token(auth, { role: 'platform' }, '1h')).rejects.toThrow(/platformId/);
    await expect(signHs256Token(auth, { role: 'admin' }, 'forever')).rejects.toThrow(/--ttl/);
  });
});

describe('AuthGuard', () => {
  class Controller {
    @Roles('inspector', 'supplier') read() {}
    @Public() health() {}
    undeclared() {}
  }
  @Roles('admin')
  class AdminController {
    list() {}
    @Public() open() {}
  }

  let guard: AuthGuard;
  let inspector: string;
  beforeAll(async () => {
    guard = new AuthGuard(new Reflector(), await TokenVerifier.create(hsAuth()));
    inspector = await hs({ role: 'inspector', sub: 'i', regions: ['5001'] });
  });

  const ctx = (cls: new () => object, handler: string, token?: string) => {
    const req = {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    } as AuthenticatedRequest;
    const res = { setHeader: jest.fn() };
    const context = {
      getType: () => 'http',
      getHandler: () => (cls.prototype as Record<string, unknown>)[handler],
      getClass: () => cls,
      switchToHttp: () => ({ getRequest: () => req, getResponse: () => res }),
    } as unknown as ExecutionContext;
    return { context, req, res };
  };
  const statusOf = async (p: Promise<boolean>) =>
    p.then(
      () => 200,
      (e: unknown) => (e instanceof AppError ? e.statusCode : 500),
    );

  it('lets a declared role through and sets the principal and its scope', async () => {
    const { context, req } = ctx(Controller, 'read', inspector);
    await expect(guard.canActivate(context)).resolves.toBe(true);
    expect(req.user).toEqual({ role: 'inspector', sub: 'i', regions: ['5001'] });
    expect(req.scope).toEqual({ regions: ['5001'] });
  });

  it('fails closed: a route without a policy is refused even to a valid token', async () => {
    expect(
      await statusOf(guard.canActivate(ctx(Controller, 'undeclared', inspector).context)),
    ).toBe(403);
    expect(await statusOf(guard.canActivate(ctx(Controller, 'undeclared').context))).toBe(401);
  });

  it('401 without a token, 403 for another role, public needs nothing; handler overrides controller', async () => {
    const { context, res } = ctx(Controller, 'read');
    expect(await statusOf(guard.canActivate(context))).toBe(401);
    expect(res.setHeader).toHaveBeenCalledWith('WWW-Authenticate', 'Bearer');
    expect(await statusOf(guard.canActivate(ctx(AdminController, 'list', inspector).context))).toBe(
      403,
    );
    expect(await statusOf(guard.canActivate(ctx(Controller, 'health').context))).toBe(200);
    expect(await statusOf(guard.canActivate(ctx(AdminController, 'open').context))).toBe(200);
  });
});
