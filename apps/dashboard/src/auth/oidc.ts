/**
 * Sign-in through an OpenID Connect provider: the authorization-code flow with PKCE (RFC 7636,
 * S256), as a public client (no secret in the page). The provider's access token becomes the
 * session's bearer token; the API verifies it with the provider's keys.
 */
import type { AuthConfigView } from '../api/types';

type Oidc = NonNullable<AuthConfigView['oidc']>;

const PENDING = 'monitor.oidc';

interface Discovery {
  authorization_endpoint: string;
  token_endpoint: string;
}

interface Pending {
  state: string;
  verifier: string;
  tokenEndpoint: string;
  redirectUri: string;
  clientId: string;
  resource?: string;
  /** where to go after signing in */
  returnTo: string;
}

function base64url(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function random(n = 32): string {
  return base64url(crypto.getRandomValues(new Uint8Array(n)));
}

export async function pkceChallenge(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

async function discover(issuer: string): Promise<Discovery> {
  const res = await fetch(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`, {
    credentials: 'omit',
  });
  if (!res.ok) throw new Error(`discovery failed: HTTP ${res.status}`);
  return (await res.json()) as Discovery;
}

export function callbackUri(): string {
  return `${window.location.origin}/auth/callback`;
}

/** Leaves for the provider's sign-in page. */
export async function startOidcSignIn(cfg: Oidc, returnTo: string): Promise<void> {
  const d = await discover(cfg.issuer);
  const verifier = random(48);
  const pending: Pending = {
    state: random(16),
    verifier,
    tokenEndpoint: d.token_endpoint,
    redirectUri: callbackUri(),
    clientId: cfg.clientId,
    ...(cfg.resource ? { resource: cfg.resource } : {}),
    returnTo,
  };
  sessionStorage.setItem(PENDING, JSON.stringify(pending));
  const url = new URL(d.authorization_endpoint);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', cfg.clientId);
  url.searchParams.set('redirect_uri', pending.redirectUri);
  url.searchParams.set('scope', cfg.scope);
  url.searchParams.set('state', pending.state);
  url.searchParams.set('code_challenge', await pkceChallenge(verifier));
  url.searchParams.set('code_challenge_method', 'S256');
  if (cfg.resource) url.searchParams.set('resource', cfg.resource);
  window.location.assign(url.toString());
}

/**
 * On /auth/callback: checks `state`, exchanges the code (with the PKCE verifier) for the
 * access token, and removes code and state from the address bar. Returns the token and where
 * to go next.
 */
export async function completeOidcSignIn(
  search: string,
): Promise<{ token: string; returnTo: string }> {
  const params = new URLSearchParams(search);
  history.replaceState(history.state, '', window.location.pathname);
  const raw = sessionStorage.getItem(PENDING);
  sessionStorage.removeItem(PENDING);
  if (params.get('error'))
    throw new Error(params.get('error_description') ?? params.get('error') ?? 'sign-in refused');
  if (!raw) throw new Error('no sign-in in progress in this tab');
  const pending = JSON.parse(raw) as Pending;
  const code = params.get('code');
  if (!code || params.get('state') !== pending.state)
    throw new Error('the answer of the identity provider does not match this sign-in');
  const body = new URLSearchParams({
    grant_type: 'authorization_code',
    code,
    redirect_uri: pending.redirectUri,
    client_id: pending.clientId,
    code_verifier: pending.verifier,
  });
  if (pending.resource) body.set('resource', pending.resource);
  const res = await fetch(pending.tokenEndpoint, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
    body,
    credentials: 'omit',
  });
  const answer = (await res.json().catch(() => ({}))) as {
    access_token?: string;
    error?: string;
    error_description?: string;
  };
  if (!res.ok || !answer.access_token)
    throw new Error(
      answer.error_description ?? answer.error ?? `token request failed: HTTP ${res.status}`,
    );
  return { token: answer.access_token, returnTo: pending.returnTo || '/' };
}
