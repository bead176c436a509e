import { createPublicKey } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

/** Typed configuration, validated once at boot. */
export interface AppConfig {
  port: number;
  host: string;
  databaseUrl?: string;
  dataDir: string;
  dbPoolSize: number;
  /** megabytes of decision states ingestion remembers between batches (0: none) */
  decisionCacheMb: number;
  decisionCachePackedMb: number;
  /** connections of the read-only pool of the query endpoints */
  dbReadPoolSize: number;
  /** statement_timeout of the query endpoints' connections, ms */
  queryTimeoutMs: number;
  /** idle_in_transaction_session_timeout of every service connection, ms (0 = off) */
  dbIdleInTransactionTimeoutMs: number;
  /** every instance serves HTTP; these roles run beside it */
  roles: { projector: boolean; consumer: boolean; notifier: boolean };
  kafka: {
    brokers: string[];
    clientId: string;
    groupId: string;
    topic: string;
    dlqTopic: string;
    partitions: number;
    /** the platform the topic stands for: owner of the contracts its records create */
    platformId: string;
    /** a partition retrying the same records longer than this is reported stuck (/health) */
    stuckAfterMs: number;
  };
  projector: { batchSize: number; idleMs: number };
  bodyLimit: string;
  /** largest OCDS import body (POST /v1/ocds/releases, streamed: memory does not grow with it) */
  ocdsMaxBodyBytes: number;
  /** ocid prefix of exported contracts that did not come from OCDS */
  ocdsOcidPrefix: string;
  logLevel: 'error' | 'warn' | 'log' | 'debug' | 'verbose';
  auth: AuthConfig;
  rateLimit: { ingestPerMin: number; queryPerMin: number };
  /** Origins allowed by CORS; empty = CORS closed (no CORS headers at all). */
  corsOrigins: string[];
  /** The web dashboard served at `/` (SPEC §9). */
  dashboard: {
    /** DASHBOARD_DIR: the built dashboard; unset = `dist/dashboard` beside the service */
    dir?: string;
    /** sign-in through an OpenID Connect provider (authorization code + PKCE); unset = off */
    oidc?: OidcConfig;
  };
  /** where the dashboard is reached: links in notifications are `${publicUrl}/contracts/{id}` */
  publicUrl: string;
  webhooks: WebhookConfig;
}

/** Early-warning notifications (SPEC §8): the sweep and the delivery worker. */
export interface WebhookConfig {
  /** https to private, loopback, link-local … addresses allowed (off: refused, no SSRF) */
  allowPrivate: boolean;
  /** one delivery attempt: connect, send and answer, ms */
  timeoutMs: number;
  /** first retry after about this (doubling, ±20 % jitter), ms */
  retryBaseMs: number;
  /** retries at most this far apart, ms */
  retryMaxMs: number;
  /** how often the projector leader sweeps for obligations that became due soon or overdue, ms */
  sweepIntervalMs: number;
  /** how often an idle delivery worker looks for due deliveries, ms */
  pollMs: number;
  /** deliveries sent at once by one instance */
  concurrency: number;
}

/**
 * OIDC_ISSUER / OIDC_CLIENT_ID (both or neither): the dashboard signs in through this provider
 * (a public client, authorization code with PKCE) and sends its access token to the API, which
 * verifies it like any other RS256 token (JWT_JWKS_URL or JWT_PUBLIC_KEY: the provider's keys).
 */
export interface OidcConfig {
  issuer: string;
  clientId: string;
  /** OIDC_SCOPE, default `openid` */
  scope: string;
  /** OIDC_RESOURCE (RFC 8707 resource indicator the page asks a token for); default JWT_AUDIENCE */
  resource?: string;
}

/**
 * How bearer tokens are verified. Exactly one key source: `secret` (HS256, single node) or
 * `publicKeyPem` / `jwksUrl` (RS256, production). With none configured, an HS256 secret is
 * generated once and kept in `secretFile`.
 */
export interface AuthConfig {
  algorithm: 'HS256' | 'RS256';
  secret?: string;
  publicKeyPem?: string;
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
  /** where the generated HS256 secret lives (DATA_DIR/jwt-secret) */
  secretFile: string;
  /** true when a DATABASE_URL is set and no key was configured: generating one deserves a warning */
  warnOnGeneratedSecret: boolean;
}

/** Minimum length of JWT_SECRET: HS256 keys must be at least as long as the hash (RFC 7518 §3.2). */
export const MIN_JWT_SECRET_LENGTH = 32;

export class ConfigError extends Error {}

/** KAFKA_PLATFORM_ID, else the topic's name (the same pattern as a token's platformId). */
function kafkaPlatformId(env: NodeJS.ProcessEnv): string {
  const id = env.KAFKA_PLATFORM_ID || env.KAFKA_TOPIC || 'procurement.events';
  if (!/^[A-Za-z0-9._:-]{1,64}$/.test(id))
    throw new ConfigError(
      'KAFKA_PLATFORM_ID (or, unset, KAFKA_TOPIC) must be 1-64 of A-Z a-z 0-9 . _ : - (a platform id)',
    );
  return id;
}

function int(env: NodeJS.ProcessEnv, name: string, dflt: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} must be an integer, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max)
    throw new ConfigError(`${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

/**
 * DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: 0 (off, PostgreSQL's meaning) or 1 s to 24 h. Less than a
 * second could end a projector batch between two of its statements.
 */
function idleInTransactionTimeout(env: NodeJS.ProcessEnv): number {
  const name = 'DB_IDLE_IN_TRANSACTION_TIMEOUT_MS';
  if (env[name] !== undefined && /^0+$/.test(env[name])) return 0;
  const n = int(env, name, 60_000, 1, 86_400_000);
  if (n < 1000)
    throw new ConfigError(`${name} must be 0 (off) or between 1000 and 86400000, got ${n}`);
  return n;
}

function bool(env: NodeJS.ProcessEnv, name: string, dflt: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

/** See README: about 2.5 KB for a contract of ten events, so ~13,000 such contracts. */
export const DEFAULT_DECISION_CACHE_MB = 32;

/**
 * See README: the states the first tier pushes out, packed (~0.6 KB for ten events, so
 * ~50,000 such contracts). 32, not 64: at large the service's peak RSS was 390 MB without the
 * tier, 492 MB with 32 MB and 568 MB with 64 MB (docs/benchmarks.md, session 13).
 */
export const DEFAULT_DECISION_CACHE_PACKED_MB = 32;

/** Reads and validates the environment. Throws ConfigError naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must be a postgres:// or postgresql:// URL');
  }
  const brokers = (env.KAFKA_BROKERS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const b of brokers) {
    if (!/^[A-Za-z0-9.\-[\]:]+:\d+$/.test(b))
      throw new ConfigError(`KAFKA_BROKERS entry "${b}" must be host:port`);
  }
  const logLevel = (env.LOG_LEVEL ?? 'log') as AppConfig['logLevel'];
  if (!['error', 'warn', 'log', 'debug', 'verbose'].includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL must be one of error, warn, log, debug, verbose');
  }
  const consumer = bool(env, 'ROLE_CONSUMER', brokers.length > 0);
  if (consumer && brokers.length === 0) {
    throw new ConfigError(
      'ROLE_CONSUMER is on but KAFKA_BROKERS is empty: set KAFKA_BROKERS=host:port[,host:port]',
    );
  }
  return {
    port: int(env, 'PORT', 3000, 0, 65535),
    host: env.HOST || '127.0.0.1',
    databaseUrl,
    dataDir: path.resolve(env.DATA_DIR || '.data'),
    dbPoolSize: int(env, 'DB_POOL_SIZE', 10, 1, 200),
    decisionCacheMb: int(env, 'DECISION_CACHE_MB', DEFAULT_DECISION_CACHE_MB, 0, 16_384),
    decisionCachePackedMb: int(
      env,
      'DECISION_CACHE_PACKED_MB',
      DEFAULT_DECISION_CACHE_PACKED_MB,
      0,
      16_384,
    ),
    dbReadPoolSize: int(env, 'DB_READ_POOL_SIZE', 10, 1, 200),
    queryTimeoutMs: int(env, 'QUERY_TIMEOUT_MS', 30_000, 100, 3_600_000),
    dbIdleInTransactionTimeoutMs: idleInTransactionTimeout(env),
    roles: {
      projector: bool(env, 'ROLE_PROJECTOR', true),
      consumer,
      notifier: bool(env, 'ROLE_NOTIFIER', true),
    },
    kafka: {
      brokers,
      clientId: env.KAFKA_CLIENT_ID || 'compliance-monitor',
      groupId: env.KAFKA_GROUP_ID || 'compliance-monitor',
      topic: env.KAFKA_TOPIC || 'procurement.events',
      dlqTopic: env.KAFKA_DLQ_TOPIC || 'procurement.events.dlq',
      partitions: int(env, 'KAFKA_PARTITIONS', 6, 1, 1000),
      platformId: kafkaPlatformId(env),
      stuckAfterMs: int(env, 'KAFKA_STUCK_AFTER_MS', 30_000, 1_000, 86_400_000),
    },
    projector: {
      batchSize: int(env, 'PROJECTOR_BATCH_SIZE', 5000, 1, 100000),
      idleMs: int(env, 'PROJECTOR_IDLE_MS', 200, 10, 60000),
    },
    bodyLimit: env.BODY_LIMIT || '70mb',
    ocdsMaxBodyBytes: int(env, 'OCDS_MAX_BODY_MB', 1024, 1, 65536) * 1024 * 1024,
    ocdsOcidPrefix: ocidPrefix(env),
    logLevel,
    auth: authConfig(env, path.resolve(env.DATA_DIR || '.data'), databaseUrl !== undefined),
    rateLimit: {
      ingestPerMin: int(env, 'RATE_LIMIT_INGEST_PER_MIN', 600, 1, 100_000_000),
      queryPerMin: int(env, 'RATE_LIMIT_QUERY_PER_MIN', 1200, 1, 100_000_000),
    },
    corsOrigins: corsOrigins(env),
    dashboard: dashboardConfig(env),
    publicUrl: publicUrl(env),
    webhooks: {
      allowPrivate: bool(env, 'WEBHOOK_ALLOW_PRIVATE', false),
      timeoutMs: int(env, 'WEBHOOK_TIMEOUT_MS', 10_000, 100, 120_000),
      retryBaseMs: int(env, 'WEBHOOK_RETRY_BASE_MS', 10_000, 10, 3_600_000),
      retryMaxMs: int(env, 'WEBHOOK_RETRY_MAX_MS', 3_600_000, 10, 86_400_000),
      sweepIntervalMs: int(env, 'WEBHOOK_SWEEP_INTERVAL_MS', 3_600_000, 100, 86_400_000),
      pollMs: int(env, 'WEBHOOK_POLL_MS', 1000, 10, 60_000),
      concurrency: int(env, 'WEBHOOK_CONCURRENCY', 8, 1, 100),
    },
  };
}

function ocidPrefix(env: NodeJS.ProcessEnv): string {
  const v = env.OCDS_OCID_PREFIX || 'ocds-cpcm00';
  // an OCP-registered prefix is `ocds-` and 6 characters; ours must at least be usable in an ocid
  if (!/^ocds-[a-z0-9]{6}$/.test(v))
    throw new ConfigError(
      'OCDS_OCID_PREFIX must be ocds- followed by 6 lowercase letters or digits',
    );
  return v;
}

/** PUBLIC_URL: the dashboard's origin (and path), http(s), no query or fragment; default http://HOST:PORT. */
function publicUrl(env: NodeJS.ProcessEnv): string {
  const raw = env.PUBLIC_URL;
  if (raw === undefined || raw === '')
    return `http://${env.HOST || '127.0.0.1'}:${env.PORT || '3000'}`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('PUBLIC_URL must be an absolute URL such as https://monitor.example.org');
  }
  if (!['http:', 'https:'].includes(url.protocol) || url.search || url.hash || url.username)
    throw new ConfigError(
      'PUBLIC_URL must be an http(s) URL without credentials, query or fragment',
    );
  return url.toString().replace(/\/+$/, '');
}

function dashboardConfig(env: NodeJS.ProcessEnv): AppConfig['dashboard'] {
  const dir = env.DASHBOARD_DIR ? path.resolve(env.DASHBOARD_DIR) : undefined;
  const issuer = env.OIDC_ISSUER || undefined;
  const clientId = env.OIDC_CLIENT_ID || undefined;
  if ((issuer === undefined) !== (clientId === undefined))
    throw new ConfigError('set OIDC_ISSUER and OIDC_CLIENT_ID together (or neither)');
  if (issuer === undefined || clientId === undefined) return { ...(dir ? { dir } : {}) };
  if (!isHttpsOrLoopback(issuer))
    throw new ConfigError('OIDC_ISSUER must be an https:// URL (http:// only on a loopback host)');
  if (!env.JWT_JWKS_URL && !env.JWT_PUBLIC_KEY)
    throw new ConfigError(
      "OIDC_ISSUER needs the provider's keys: set JWT_JWKS_URL (or JWT_PUBLIC_KEY) so its tokens are accepted",
    );
  if (!/^[\x21-\x7e]{1,256}$/.test(clientId))
    throw new ConfigError('OIDC_CLIENT_ID must be 1-256 printable ASCII characters');
  const scope = env.OIDC_SCOPE || 'openid';
  if (!/^[\x21-\x7e]+( [\x21-\x7e]+)*$/.test(scope) || scope.length > 512)
    throw new ConfigError('OIDC_SCOPE must be space-separated scope names');
  const resource = env.OIDC_RESOURCE || env.JWT_AUDIENCE || undefined;
  if (resource !== undefined && resource.length > 512)
    throw new ConfigError('OIDC_RESOURCE must be at most 512 characters');
  return {
    ...(dir ? { dir } : {}),
    oidc: { issuer, clientId, scope, ...(resource !== undefined ? { resource } : {}) },
  };
}

function isHttpsOrLoopback(raw: string): boolean {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return false;
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  return url.protocol === 'https:' || (url.protocol === 'http:' && loopback);
}

// Values of secret variables are never echoed in these messages.
function authConfig(env: NodeJS.ProcessEnv, dataDir: string, hasDatabaseUrl: boolean): AuthConfig {
  const secret = env.JWT_SECRET || undefined;
  const publicKeyPem = env.JWT_PUBLIC_KEY ? publicKey(env.JWT_PUBLIC_KEY) : undefined;
  const jwksUrl = env.JWT_JWKS_URL ? jwks(env.JWT_JWKS_URL) : undefined;
  if (secret !== undefined && (publicKeyPem || jwksUrl)) {
    // one algorithm per deployment: accepting both would reopen algorithm confusion
    throw new ConfigError(
      'set either JWT_SECRET (HS256) or JWT_PUBLIC_KEY / JWT_JWKS_URL (RS256), not both',
    );
  }
  if (publicKeyPem && jwksUrl)
    throw new ConfigError('set either JWT_PUBLIC_KEY or JWT_JWKS_URL, not both');
  if (secret !== undefined && secret.length < MIN_JWT_SECRET_LENGTH) {
    throw new ConfigError(`JWT_SECRET must be at least ${MIN_JWT_SECRET_LENGTH} characters`);
  }
  // an OIDC provider's tokens carry its issuer: checked unless JWT_ISSUER says otherwise
  const issuer = env.JWT_ISSUER || env.OIDC_ISSUER || undefined;
  const audience = env.JWT_AUDIENCE || undefined;
  if (issuer !== undefined && issuer.length > 512)
    throw new ConfigError('JWT_ISSUER must be at most 512 characters');
  if (audience !== undefined && audience.length > 512)
    throw new ConfigError('JWT_AUDIENCE must be at most 512 characters');
  const rs = publicKeyPem !== undefined || jwksUrl !== undefined;
  return {
    algorithm: rs ? 'RS256' : 'HS256',
    ...(secret !== undefined ? { secret } : {}),
    ...(publicKeyPem !== undefined ? { publicKeyPem } : {}),
    ...(jwksUrl !== undefined ? { jwksUrl } : {}),
    ...(issuer !== undefined ? { issuer } : {}),
    ...(audience !== undefined ? { audience } : {}),
    secretFile: path.join(dataDir, 'jwt-secret'),
    warnOnGeneratedSecret: hasDatabaseUrl && secret === undefined && !rs,
  };
}

/** JWT_PUBLIC_KEY: PEM text (literal `\n` accepted) or the path of a PEM file; RSA, 2048 bits or more. */
function publicKey(raw: string): string {
  let pem = raw.replace(/\\n/g, '\n').trim();
  if (!pem.startsWith('-----BEGIN')) {
    if (!existsSync(pem))
      throw new ConfigError('JWT_PUBLIC_KEY must be a PEM public key or the path of a PEM file');
    pem = readFileSync(pem, 'utf8').trim();
  }
  if (/PRIVATE KEY-----/.test(pem))
    throw new ConfigError('JWT_PUBLIC_KEY must be a public key, not a private key');
  let key;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new ConfigError('JWT_PUBLIC_KEY is not a valid PEM public key');
  }
  if (key.asymmetricKeyType !== 'rsa' || (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
    throw new ConfigError(
      'JWT_PUBLIC_KEY must be an RSA key of at least 2048 bits (tokens are RS256)',
    );
  }
  return key.export({ type: 'spki', format: 'pem' }).toString();
}

/** JWT_JWKS_URL: https, or http on a loopback host only. */
function jwks(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('JWT_JWKS_URL must be an absolute URL');
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new ConfigError('JWT_JWKS_URL must be an https:// URL (http:// only on a loopback host)');
  }
  return url.toString();
}

function corsOrigins(env: NodeJS.ProcessEnv): string[] {
  const list = (env.CORS_ORIGINS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const o of list) {
    let ok = false;
    try {
      const u = new URL(o);
      ok = (u.protocol === 'https:' || u.protocol === 'http:') && u.origin === o.replace(/\/$/, '');
    } catch {
      ok = false;
    }
    if (!ok)
      throw new ConfigError(
        `CORS_ORIGINS entry "${o}" must be an origin such as https://dashboard.example.org`,
      );
  }
  return list.map((o) => o.replace(/\/$/, ''));
}

export const APP_CONFIG = Symbol('APP_CONFIG');
