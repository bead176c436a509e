import type { INestApplication } from '@nestjs/common';
import { createApp } from '../../apps/monitor/src/bootstrap';
import { loadConfig, type AppConfig, type Clock } from '@app/platform';
import { createTestDatabase, type TestDatabase } from '@app/testing';

export interface TestApp {
  app: INestApplication;
  /** base URL, e.g. http://127.0.0.1:40123 */
  url: string;
  db: TestDatabase;
  config: AppConfig;
  close(): Promise<void>;
}

/**
 * Boots the real application (HTTP, migrations, roles) on its own fresh database and a free
 * port. `env` overrides configuration variables as the service would read them.
 */
export async function startTestApp(opts: { env?: Record<string, string>; clock?: Clock } = {}): Promise<TestApp> {
  const db = await createTestDatabase('app');
  const config = loadConfig({ LOG_LEVEL: 'warn', ROLE_PROJECTOR: 'false', ...opts.env });
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
