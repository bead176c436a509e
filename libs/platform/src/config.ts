import * as path from 'node:path';

/** Typed configuration, validated once at boot. */
export interface AppConfig {
  port: number;
  host: string;
  databaseUrl?: string;
  dataDir: string;
  dbPoolSize: number;
  roles: { api: boolean; projector: boolean; consumer: boolean };
  kafka: {
    brokers: string[];
    clientId: string;
    groupId: string;
    topic: string;
    dlqTopic: string;
    partitions: number;
  };
  projector: { batchSize: number; idleMs: number };
  bodyLimit: string;
  logLevel: 'error' | 'warn' | 'log' | 'debug' | 'verbose';
}

export class ConfigError extends Error {}

function int(env: NodeJS.ProcessEnv, name: string, dflt: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} must be an integer, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

function bool(env: NodeJS.ProcessEnv, name: string, dflt: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

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
    if (!/^[A-Za-z0-9.\-[\]:]+:\d+$/.test(b)) throw new ConfigError(`KAFKA_BROKERS entry "${b}" must be host:port`);
  }
  const logLevel = (env.LOG_LEVEL ?? 'log') as AppConfig['logLevel'];
  if (!['error', 'warn', 'log', 'debug', 'verbose'].includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL must be one of error, warn, log, debug, verbose');
  }
  return {
    port: int(env, 'PORT', 3000, 0, 65535),
    host: env.HOST || '127.0.0.1',
    databaseUrl,
    dataDir: path.resolve(env.DATA_DIR || '.data'),
    dbPoolSize: int(env, 'DB_POOL_SIZE', 10, 1, 200),
    roles: {
      api: bool(env, 'ROLE_API', true),
      projector: bool(env, 'ROLE_PROJECTOR', true),
      consumer: bool(env, 'ROLE_CONSUMER', brokers.length > 0),
    },
    kafka: {
      brokers,
      clientId: env.KAFKA_CLIENT_ID || 'compliance-monitor',
      groupId: env.KAFKA_GROUP_ID || 'compliance-monitor',
      topic: env.KAFKA_TOPIC || 'procurement.events',
      dlqTopic: env.KAFKA_DLQ_TOPIC || 'procurement.events.dlq',
      partitions: int(env, 'KAFKA_PARTITIONS', 6, 1, 1000),
    },
    projector: {
      batchSize: int(env, 'PROJECTOR_BATCH_SIZE', 2000, 1, 100000),
      idleMs: int(env, 'PROJECTOR_IDLE_MS', 200, 10, 60000),
    },
    bodyLimit: env.BODY_LIMIT || '70mb',
    logLevel,
  };
}

export const APP_CONFIG = Symbol('APP_CONFIG');
