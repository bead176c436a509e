import 'reflect-metadata';
import { createReadStream } from 'node:fs';
import * as path from 'node:path';
import { NestFactory } from '@nestjs/core';
import {
  loadConfig,
  startEmbeddedPostgres,
  type AppConfig,
  type EmbeddedDatabase,
} from '@app/platform';
import { PROJECTION_NAME, RebuildService } from '@app/projections';
import { AppModule } from './app.module';
import { OcdsImportError, OcdsImporter, emptySummary } from './ocds/import-releases/ocds-importer';

const USAGE = [
  'usage: npm run cli -- rebuild [compliance]',
  '       npm run cli -- ocds-import FILE --platform-id ID',
].join('\n');

/**
 * Operator commands that run without the HTTP server:
 *   rebuild [projection]                 rebuild a projection into new tables and switch atomically
 *   ocds-import FILE --platform-id ID    import an OCDS release package, record package or JSON
 *                                        Lines file as POST /v1/ocds/releases does, under that
 *                                        platform; prints one JSON line per release, then the summary
 * Uses DATABASE_URL, or the embedded PostgreSQL under DATA_DIR like `npm start`.
 */
async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const [command] = args;
  let run: (
    app: Awaited<ReturnType<typeof NestFactory.createApplicationContext>>,
    config: AppConfig,
  ) => Promise<number>;
  if (command === 'rebuild') {
    const name = args[1] ?? PROJECTION_NAME;
    if (name !== PROJECTION_NAME) {
      console.error(`unknown projection "${name}" (known: ${PROJECTION_NAME})`);
      return 2;
    }
    run = async (app, config) => {
      const started = Date.now();
      const status = await app.get(RebuildService).start(config.projector.batchSize);
      console.log(JSON.stringify({ ...status, seconds: (Date.now() - started) / 1000 }));
      return status.state === 'done' ? 0 : 1;
    };
  } else if (command === 'ocds-import') {
    const file = args[1];
    const at = args.indexOf('--platform-id');
    const platformId = at > 0 ? args[at + 1] : undefined;
    if (
      !file ||
      file.startsWith('--') ||
      !platformId ||
      !/^[A-Za-z0-9._:-]{1,100}$/.test(platformId)
    ) {
      console.error(USAGE);
      return 2;
    }
    run = async (app) => {
      const summary = emptySummary();
      const started = Date.now();
      try {
        await app
          .get(OcdsImporter)
          .import(
            createReadStream(file),
            { kind: 'import', platformId, principal: 'cli' },
            (r) => void process.stdout.write(`${JSON.stringify(r)}\n`),
            Number.POSITIVE_INFINITY,
            summary,
          );
      } catch (err) {
        if (!(err instanceof OcdsImportError)) throw err;
        console.log(
          JSON.stringify({
            complete: false,
            error: { code: err.code, message: err.message },
            summary,
          }),
        );
        return 1;
      }
      console.log(
        JSON.stringify({ complete: true, summary, seconds: (Date.now() - started) / 1000 }),
      );
      return 0;
    };
  } else {
    console.error(USAGE);
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
    return await run(app, config);
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
