import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { describeWithBrowser } from '@app/testing';
import { startTestApp, type TestApp } from '../support/test-app';
import { NOW } from '../support/dashboard-feed';
import { launchChromium, openPage } from '../support/dashboard-browser';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Sign-in through a real OpenID Connect provider (oidc-provider, started here): the
 * authorization-code flow with PKCE (S256) from the page, the provider's RS256 access token
 * verified by the monitor through the provider's JWKS.
 */
describeWithBrowser('dashboard sign-in with OIDC and PKCE (e2e)', () => {
  let t: TestApp;
  let provider: ChildProcess;
  let browser: Browser;
  let issuer: string;
  const AUDIENCE = 'urn:compliance-monitor';
  const providerLog: string[] = [];

  beforeAll(async () => {
    const port = await freePort();
    issuer = `http://127.0.0.1:${port}`;
    t = await startTestApp({
      clock: { now: () => NOW },
      env: {
        JWT_JWKS_URL: `${issuer}/jwks`,
        OIDC_ISSUER: issuer,
        OIDC_CLIENT_ID: 'dashboard',
        JWT_AUDIENCE: AUDIENCE,
      },
    });
    provider = spawn(
      process.execPath,
      [
        path.join(__dirname, '../support/oidc-provider.mjs'),
        String(port),
        `${t.url}/auth/callback`,
        AUDIENCE,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`oidc-provider did not start: ${providerLog.join('')}`)),
        20_000,
      );
      provider.stdout!.on('data', (d: Buffer) => {
        providerLog.push(d.toString());
        if (d.toString().includes('READY')) {
          clearTimeout(timer);
          resolve();
        }
      });
      provider.stderr!.on('data', (d: Buffer) => providerLog.push(d.toString()));
      provider.once('exit', (code) =>
        reject(new Error(`oidc-provider exited ${code}: ${providerLog.join('')}`)),
      );
    });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    provider?.kill();
    await t?.close();
  });

  it('the service announces the provider; the page signs in with code + PKCE; the API accepts the token', async () => {
    const config = await (await fetch(`${t.url}/v1/auth/config`)).json();
    expect(config).toEqual({
      oidc: { issuer, clientId: 'dashboard', scope: 'openid', resource: AUDIENCE },
    });
    const csp = (await fetch(`${t.url}/`)).headers.get('content-security-policy') ?? '';
    expect(csp).toContain(`connect-src 'self' ${issuer}`);

    const w = await openPage(browser);
    const { page } = w;
    const authorize: string[] = [];
    const tokenRequests: string[] = [];
    page.on('request', (r) => {
      if (r.url().startsWith(`${issuer}/auth`)) authorize.push(r.url());
      if (r.url().startsWith(`${issuer}/token`)) tokenRequests.push(r.postData() ?? '');
    });
    await page.goto(`${t.url}/units`);
    await page.waitForURL(/\/login/);
    await page.locator('[data-testid="oidc-sign-in"]').click();
    // the provider's own (development) login and consent pages
    await page.waitForURL(new RegExp(`^${issuer}/interaction/`));
    await page.locator('input[name="login"]').fill('inspector-oidc');
    await page.locator('input[name="password"]').fill('any');
    await page.locator('button[type="submit"]').click();
    await page.waitForURL(new RegExp(`^${issuer}/interaction/`));
    await page.locator('button[type="submit"]').click();
    await page.waitForURL(`${t.url}/units`, { timeout: 20_000 });
    await page.locator('[data-testid="role"]').waitFor();
    expect(await page.locator('[data-testid="role"]').innerText()).toBe('监督检查人员');
    // the API answered the page with that token (no data here: the empty state, not an error)
    await page.locator('.el-empty').waitFor();
    expect(await page.locator('.el-result[role="alert"]').count()).toBe(0);

    // PKCE S256 on the authorization request, the verifier on the token request
    const auth = new URL(authorize[0]);
    expect(auth.searchParams.get('code_challenge_method')).toBe('S256');
    expect(auth.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(auth.searchParams.get('resource')).toBe(AUDIENCE);
    expect(new URLSearchParams(tokenRequests[0]).get('code_verifier')).toMatch(
      /^[A-Za-z0-9_-]{43,128}$/,
    );
    // the provider's access token is the session's token, and /v1/me reads its claims
    const token = String(await page.evaluate("sessionStorage.getItem('monitor.token')"));
    const me = await (
      await fetch(`${t.url}/v1/me`, { headers: { Authorization: `Bearer ${token}` } })
    ).json();
    expect(me).toMatchObject({ role: 'inspector', subject: 'inspector-oidc' });
    // code and state left the address bar; the token was never in a URL
    expect(page.url()).toBe(`${t.url}/units`);
    expect(w.requests.filter((u) => u.includes(token))).toEqual([]);
    expect({ csp: w.cspViolations, errors: w.errors }).toEqual({ csp: [], errors: [] });
    await w.context.close();
  });
});
