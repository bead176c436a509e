/**
 * The signed-in session: the bearer token, kept in sessionStorage only (gone when the tab
 * closes, never in localStorage, a cookie or a URL sent to the server), and a timer that
 * signs out at the token's `exp`.
 */
const KEY = 'monitor.token';

type Listener = (reason: 'expired' | 'unauthorized' | 'signed-out') => void;
let listener: Listener | undefined;
let timer: ReturnType<typeof setTimeout> | undefined;

/** Called when the session ends by itself (expiry, a 401): the router goes to sign-in. */
export function onSessionEnd(l: Listener): void {
  listener = l;
}

export function getToken(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

/** The token's claims, read (not verified: the API verifies) for its expiry. */
export function tokenClaims(token: string): Record<string, unknown> | null {
  const part = token.split('.')[1];
  if (!part) return null;
  try {
    const b64 = part.replace(/-/g, '+').replace(/_/g, '/');
    const json = new TextDecoder().decode(
      Uint8Array.from(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)), (c) => c.charCodeAt(0)),
    );
    const claims: unknown = JSON.parse(json);
    return claims && typeof claims === 'object' ? (claims as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Seconds since the epoch at which the token expires; null when it says nothing. */
export function tokenExpiry(token: string): number | null {
  const exp = tokenClaims(token)?.exp;
  return typeof exp === 'number' ? exp : null;
}

export function isExpired(token: string, nowMs = Date.now()): boolean {
  const exp = tokenExpiry(token);
  return exp !== null && exp * 1000 <= nowMs;
}

export function setToken(token: string): void {
  sessionStorage.setItem(KEY, token);
  armExpiry(token);
}

export function clearToken(reason: 'expired' | 'unauthorized' | 'signed-out'): void {
  const had = getToken() !== null;
  sessionStorage.removeItem(KEY);
  if (timer) clearTimeout(timer);
  timer = undefined;
  if (had || reason !== 'signed-out') listener?.(reason);
}

function armExpiry(token: string): void {
  if (timer) clearTimeout(timer);
  const exp = tokenExpiry(token);
  if (exp === null) return;
  // setTimeout holds at most ~24.8 days
  const ms = Math.min(exp * 1000 - Date.now(), 2_147_000_000);
  timer = setTimeout(() => clearToken('expired'), Math.max(0, ms));
}

/** Re-arms the expiry timer of a token kept from before a reload. */
export function resumeSession(): void {
  const t = getToken();
  if (t && isExpired(t)) clearToken('expired');
  else if (t) armExpiry(t);
}

/**
 * `#token=<jwt>` (links from an identity portal): the token is taken into the session and
 * removed from the address bar and the history at once. A fragment is never sent to a server.
 */
export function takeTokenFromFragment(loc: Location = window.location): boolean {
  const m = /^#token=([A-Za-z0-9_\-.=]+)/.exec(loc.hash);
  if (!m) return false;
  history.replaceState(history.state, '', loc.pathname + loc.search);
  setToken(decodeURIComponent(m[1]));
  return true;
}
