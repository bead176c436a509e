import type { INestApplication } from '@nestjs/common';
import { createApp } from '../../apps/monitor/src/bootstrap';
import { loadConfig, type AppConfig, type Clock } from '@app/platform';
import { createTestDatabase, type TestDatabase } from '@app/testing';
import { primeTokens, TEST_JWT_SECRET } from './auth';

export interface TestApp {
  app: INestApplication;
  /** base URL, e.g. http://127.0.0.1:40123 */
  url: string;
  db: TestDatabase;
  config: AppConfig;
  close(): Promise<void>;
}

/** Variables that choose how tokens are verified; when a test sets none, JWT_SECRET is the test secret. */
const TOKEN_KEY_VARIABLES = ['JWT_SECRET', 'JWT_PUBLIC_KEY', 'JWT_JWKS_URL'];

/**
 * Boots the real application (HTTP, migrations, roles) on its own fresh database and a free
 * port. `env` overrides configuration variables as the service would read them. Unless `env`
 * configures a token key, tokens are HS256 with TEST_JWT_SECRET (see ./auth: `auth(role)`,
 * `tokenFor(role, claims)`), and the rate limits are high enough not to get in the way.
 */
export async function startTestApp(
  opts: { env?: Record<string, string>; clock?: Clock } = {},
): Promise<TestApp> {
  const db = await createTestDatabase('app');
  const env = opts.env ?? {};
  const authDefaults = TOKEN_KEY_VARIABLES.some((k) => env[k] !== undefined)
    ? {}
    : { JWT_SECRET: TEST_JWT_SECRET };
  const config = loadConfig({
    LOG_LEVEL: 'warn',
    ROLE_PROJECTOR: 'false',
    RATE_LIMIT_INGEST_PER_MIN: '1000000',
    RATE_LIMIT_QUERY_PER_MIN: '1000000',
    ...authDefaults,
    ...env,
  });
  await primeTokens();
  const app = await createApp({ config, databaseUrl: db.url, clock: opts.clock });
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1').replace('localhost', '127.0.0.1');
  return {
    app,
    url,
    db,
    config,
    close: async () => {
      await app.close();
      await db.drop();
    },
  };
}
