import { ConfigError, loadConfig } from './config';

describe('loadConfig: DB_IDLE_IN_TRANSACTION_TIMEOUT_MS', () => {
  const idle = (v?: string) =>
    loadConfig(v === undefined ? {} : { DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: v })
      .dbIdleInTransactionTimeoutMs;

  it('defaults to 60 s; 0 turns it off; 1 s to 24 h are taken as given', () => {
    expect(idle()).toBe(60_000);
    expect(idle('')).toBe(60_000);
    expect(idle('0')).toBe(0);
    expect(idle('1000')).toBe(1000);
    expect(idle('86400000')).toBe(86_400_000);
  });

  it('refuses anything else, naming the variable', () => {
    for (const v of ['500', '1', '86400001', '-1', '60s', '1e4']) {
      expect(() => idle(v)).toThrow(ConfigError);
      expect(() => idle(v)).toThrow(/DB_IDLE_IN_TRANSACTION_TIMEOUT_MS/);
    }
  });
});

describe('loadConfig: the dashboard and OIDC sign-in', () => {
  const JWKS = { JWT_JWKS_URL: 'http://127.0.0.1:4000/jwks' };

  it('is off without OIDC_ISSUER; DASHBOARD_DIR is resolved', () => {
    expect(loadConfig({}).dashboard).toEqual({});
    expect(loadConfig({ DASHBOARD_DIR: '/srv/dash/' }).dashboard).toEqual({ dir: '/srv/dash' });
  });

  it('takes the provider, defaults scope to openid, resource to JWT_AUDIENCE, iss to the issuer', () => {
    const c = loadConfig({
      ...JWKS,
      OIDC_ISSUER: 'http://127.0.0.1:4000',
      OIDC_CLIENT_ID: 'dashboard',
      JWT_AUDIENCE: 'urn:monitor',
    });
    expect(c.dashboard.oidc).toEqual({
      issuer: 'http://127.0.0.1:4000',
      clientId: 'dashboard',
      scope: 'openid',
      resource: 'urn:monitor',
    });
    expect(c.auth.issuer).toBe('http://127.0.0.1:4000');
    expect(
      loadConfig({
        ...JWKS,
        OIDC_ISSUER: 'https://id.example',
        OIDC_CLIENT_ID: 'd',
        JWT_ISSUER: 'x',
      }).auth.issuer,
    ).toBe('x');
  });

  it('refuses half a configuration, a plain-http remote issuer, or no provider keys', () => {
    const bad: Array<[Record<string, string>, RegExp]> = [
      [{ ...JWKS, OIDC_ISSUER: 'https://id.example' }, /OIDC_ISSUER and OIDC_CLIENT_ID/],
      [{ ...JWKS, OIDC_CLIENT_ID: 'd' }, /OIDC_ISSUER and OIDC_CLIENT_ID/],
      [{ ...JWKS, OIDC_ISSUER: 'http://id.example', OIDC_CLIENT_ID: 'd' }, /OIDC_ISSUER must be/],
      [{ OIDC_ISSUER: 'https://id.example', OIDC_CLIENT_ID: 'd' }, /JWT_JWKS_URL/],
      [{ ...JWKS, OIDC_ISSUER: 'https://id.example', OIDC_CLIENT_ID: 'a b' }, /OIDC_CLIENT_ID/],
    ];
    for (const [env, msg] of bad) expect(() => loadConfig(env)).toThrow(msg);
  });
});
