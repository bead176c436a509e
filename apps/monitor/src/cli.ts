import 'reflect-metadata';
import * as path from 'node:path';
import { NestFactory } from '@nestjs/core';
import { loadConfig, startEmbeddedPostgres, type EmbeddedDatabase } from '@app/platform';
import { PROJECTION_NAME, RebuildService } from '@app/projections';
import { AppModule } from './app.module';

/**
 * Operator commands that run without the HTTP server:
 *   rebuild [projection]   rebuild a projection into new tables and switch atomically
 * Uses DATABASE_URL, or the embedded PostgreSQL under DATA_DIR like `npm start`.
 */
async function main(): Promise<number> {
  const [command, name = PROJECTION_NAME] = process.argv.slice(2);
  if (command !== 'rebuild') {
    console.error('usage: npm run cli -- rebuild [compliance]');
    return 2;
  }
  if (name !== PROJECTION_NAME) {
    console.error(`unknown projection "${name}" (known: ${PROJECTION_NAME})`);
    return 2;
  }
  const config = loadConfig({
    ...process.env,
    ROLE_PROJECTOR: 'false',
    ROLE_CONSUMER: 'false',
    LOG_LEVEL: 'warn',
  });
  let embedded: EmbeddedDatabase | undefined;
  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    embedded = await startEmbeddedPostgres(path.join(config.dataDir, 'postgres'));
    databaseUrl = embedded.url;
  }
  const app = await NestFactory.createApplicationContext(
    AppModule.forRoot({ config, databaseUrl }),
    { logger: ['error', 'warn'] },
  );
  try {
    const started = Date.now();
    const status = await app.get(RebuildService).start(config.projector.batchSize);
    console.log(JSON.stringify({ ...status, seconds: (Date.now() - started) / 1000 }));
    return status.state === 'done' ? 0 : 1;
  } finally {
    await app.close();
    await embedded?.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error((err as Error)?.stack ?? String(err));
    process.exit(1);
  },
);
