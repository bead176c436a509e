import 'reflect-metadata';
import * as path from 'node:path';
import { Logger } from '@nestjs/common';
import {
  AppLogger,
  ConfigError,
  loadConfig,
  startEmbeddedPostgres,
  type EmbeddedDatabase,
} from '@app/platform';
import { bootLogger, createApp } from './bootstrap';

async function main(): Promise<void> {
  // JSON lines from the first line on (a configuration error too), at LOG_LEVEL once read
  Logger.overrideLogger(new AppLogger('log'));
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      bootLogger.error(`configuration: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  const logger = new AppLogger(config.logLevel);
  Logger.overrideLogger(logger);
  let embedded: EmbeddedDatabase | undefined;
  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    const dir = path.join(config.dataDir, 'postgres');
    bootLogger.log(`DATABASE_URL not set: starting embedded PostgreSQL under ${dir}`);
    try {
      embedded = await startEmbeddedPostgres(dir, { callerHandlesSignals: true });
    } catch (err) {
      if (err instanceof ConfigError) {
        bootLogger.error(`configuration: ${err.message}`);
        process.exit(2);
      }
      throw err;
    }
    databaseUrl = embedded.url;
    bootLogger.log(`embedded PostgreSQL listening on 127.0.0.1:${embedded.port}`);
  }
  const app = await createApp({ config, databaseUrl, logger });
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    bootLogger.log(`${signal}: shutting down`);
    try {
      await app.close();
    } finally {
      if (embedded) await embedded.stop().catch((e: unknown) => bootLogger.error(String(e)));
      process.exit(0);
    }
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
  await app.listen(config.port, config.host);
  const url = await app.getUrl();
  bootLogger.log(`listening on ${url.replace('[::1]', '127.0.0.1')} (API docs at ${url}/docs)`);
}

main().catch((err: unknown) => {
  bootLogger.error(`failed to start: ${(err as Error)?.stack ?? String(err)}`);
  process.exit(1);
});
