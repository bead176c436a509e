/**
 * The read pool of the query endpoints, on a real PostgreSQL: read-only sessions, bounded by
 * statement_timeout, JIT off; a cancelled statement becomes 503 QUERY.TIMEOUT; its lookups run
 * as named prepared statements, which survive a migration that changes their result columns.
 */
import type { ArgumentsHost } from '@nestjs/common';
import { AllExceptionsFilter, ReadPool } from '@app/platform';
import { createTestDatabase, type TestDatabase } from '@app/testing';
import { Client } from 'pg';

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

  it('runs lookups as named prepared statements, parsed once per connection, still right after a migration changes their result columns', async () => {
    const admin = new Client({ connectionString: db.url });
    await admin.connect();
    const one = new ReadPool(db.url, 1, 300); // one connection: its session's statements can be listed
    try {
      await admin.query('CREATE TABLE prep_t (id int PRIMARY KEY, a text)');
      await admin.query("INSERT INTO prep_t VALUES (1, 'x'), (2, 'y')");
      const text = 'SELECT t.* FROM prep_t t WHERE t.id = $1';
      const preparedHere = async () =>
        (
          await one.pool.query<{ name: string; statement: string }>(
            `SELECT name, statement FROM pg_prepared_statements WHERE statement LIKE '%prep_t%' AND statement NOT LIKE '%pg_prepared_statements%' ORDER BY prepare_time`,
          )
        ).rows;
      for (const id of [1, 2, 1, 2]) {
        const { rows } = await one.query(text, [id]);
        expect(rows).toEqual([{ id, a: id === 1 ? 'x' : 'y' }]);
      }
      const before = await preparedHere();
      expect(before).toEqual([{ name: expect.stringMatching(/^s_/), statement: text }]);
      // a column added under the prepared statement: PostgreSQL refuses it with "cached plan
      // must not change result type" (0A000); the statement is prepared again under a new name
      // (only that one is left on the connection)
      await admin.query("ALTER TABLE prep_t ADD COLUMN b text NOT NULL DEFAULT 'new'");
      for (const id of [1, 2, 1, 2]) {
        const { rows } = await one.query(text, [id]);
        expect(rows).toEqual([{ id, a: id === 1 ? 'x' : 'y', b: 'new' }]);
      }
      const after = await preparedHere();
      expect(after).toHaveLength(1);
      expect(after[0]).toEqual({ name: expect.stringMatching(/^s_/), statement: text });
      expect(after[0].name).not.toBe(before[0].name);
    } finally {
      await one.onApplicationShutdown();
      await admin.query('DROP TABLE IF EXISTS prep_t');
      await admin.end();
    }
  });
});
