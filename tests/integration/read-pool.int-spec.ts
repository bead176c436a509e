/**
 * The read pool of the query endpoints, on a real PostgreSQL: read-only sessions, bounded by
 * statement_timeout, JIT off; and a cancelled statement becomes 503 QUERY.TIMEOUT.
 */
import type { ArgumentsHost } from '@nestjs/common';
import { AllExceptionsFilter, ReadPool } from '@app/platform';
import { createTestDatabase, type TestDatabase } from '@app/testing';

describe('ReadPool (real PostgreSQL)', () => {
  let db: TestDatabase;
  let read: ReadPool;

  beforeAll(async () => {
    db = await createTestDatabase('readpool');
    read = new ReadPool(db.url, 2, 300);
  });
  afterAll(async () => {
    await read.onApplicationShutdown();
    await db.drop();
  });

  it('runs sessions read-only, without JIT, under the statement timeout', async () => {
    const { rows } = await read.pool.query<{ ro: string; jit: string; timeout: string }>(
      `SELECT current_setting('default_transaction_read_only') AS ro,
              current_setting('jit') AS jit, current_setting('statement_timeout') AS timeout`,
    );
    expect(rows[0]).toEqual({ ro: 'on', jit: 'off', timeout: '300ms' });
    await expect(read.pool.query('CREATE TABLE nope (x int)')).rejects.toMatchObject({
      code: '25006', // read_only_sql_transaction
    });
  });

  it('stops a statement that runs past the timeout, and the API answers 503 QUERY.TIMEOUT', async () => {
    const started = Date.now();
    const err = await read.pool.query('SELECT pg_sleep(5)').then(
      () => null,
      (e: unknown) => e,
    );
    expect(Date.now() - started).toBeLessThan(3000);
    expect(err).toMatchObject({ code: '57014' });

    const sent: {
      status?: number;
      body?: Record<string, unknown>;
      headers: Record<string, string>;
    } = { headers: {} };
    const res = {
      headersSent: false,
      setHeader(name: string, value: string) {
        sent.headers[name.toLowerCase()] = value;
      },
      status(s: number) {
        sent.status = s;
        return this;
      },
      json(b: Record<string, unknown>) {
        sent.body = b;
      },
    };
    const host = {
      switchToHttp: () => ({
        getRequest: () => ({ correlationId: 'c-1' }),
        getResponse: () => res,
      }),
    } as unknown as ArgumentsHost;
    new AllExceptionsFilter().catch(err, host);
    expect(sent).toMatchObject({
      status: 503,
      body: { statusCode: 503, code: 'QUERY.TIMEOUT', correlationId: 'c-1' },
      headers: { 'retry-after': expect.stringMatching(/^\d+$/) },
    });
  });
});
