import { DynamicModule, Global, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { PgEventStore, WRITE_POOL, queryPrepared } from '@app/event-store';
import { Pool, type PoolClient, type QueryResult, type QueryResultRow } from 'pg';
import { DataSource, type MixedList } from 'typeorm';

export interface DatabaseOptions {
  url: string;
  poolSize: number;
  /** connections of the read pool (inspector and supplier queries) */
  readPoolSize: number;
  /** statement_timeout of the read pool, ms */
  queryTimeoutMs: number;
  /** idle_in_transaction_session_timeout of every connection, ms (0 = off) */
  idleInTransactionTimeoutMs: number;
  entities: MixedList<Function>;
  migrations: MixedList<Function>;
}

/**
 * Session settings of the service's connections. JIT off: the read queries are short and
 * many, and PostgreSQL's cost-based JIT fires on the per-unit aggregations (their working-day
 * subqueries inflate the estimates), compiling for about a second to save milliseconds —
 * measured 1,051 ms with JIT vs 99 ms without for the largest unit's compliance at 200,000
 * contracts.
 */
export const SESSION_OPTIONS = '-c jit=off';

/** Default `idle_in_transaction_session_timeout` (DB_IDLE_IN_TRANSACTION_TIMEOUT_MS), ms. */
export const DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT_MS = 60_000;

/**
 * SESSION_OPTIONS and `idle_in_transaction_session_timeout`: a session that stays inside an
 * open transaction without running a statement for that long is ended by PostgreSQL (its
 * transaction rolled back, the pool discards the connection). Such a transaction holds its
 * locks and, worse here, the xmin horizon: the projector's gap-safe reads wait for every
 * older transaction to end, and vacuum cannot clean behind it. Every transaction of the
 * service runs its statements back to back (no waiting on a client or a broker inside one), so
 * only a bug or a hung process trips it. 0 = off.
 */
export function sessionOptions(idleInTransactionTimeoutMs: number): string {
  return `${SESSION_OPTIONS} -c idle_in_transaction_session_timeout=${Math.max(0, Math.floor(idleInTransactionTimeoutMs))}`;
}

/** PostgreSQL's "canceling statement due to statement timeout" (and other cancellations). */
export const QUERY_CANCELED = '57014';

/**
 * The pool the read endpoints query through: its own connections, read-only
 * (`default_transaction_read_only`) and bounded by `statement_timeout`, so that a query
 * whose client has gone away, or one too heavy for the request, stops on its own instead
 * of holding a connection and a CPU (the answer is 503 QUERY.TIMEOUT).
 */
export class ReadPool implements OnApplicationShutdown {
  readonly pool: Pool;

  constructor(
    url: string,
    max: number,
    timeoutMs: number,
    idleInTransactionTimeoutMs = DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT_MS,
  ) {
    this.pool = guardConnectionErrors(
      new Pool({
        connectionString: url,
        max,
        application_name: 'compliance-monitor-read',
        connectionTimeoutMillis: 10_000,
        keepAlive: true,
        options: `${sessionOptions(idleInTransactionTimeoutMs)} -c statement_timeout=${Math.max(1, Math.floor(timeoutMs))} -c default_transaction_read_only=on`,
      }),
    );
  }

  /**
   * A parameterised statement as a named prepared statement (`queryPrepared` of
   * @app/event-store: parsed and planned once per connection, not at every request), for the
   * endpoints' lookups. `text` must hold no values, only `$n` parameters.
   */
  query<R extends QueryResultRow = QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<QueryResult<R>> {
    return queryPrepared<R>(this.pool, text, values);
  }

  private ended: Promise<void> | null = null;

  /** Idempotent: an application closed twice (a test's own close, then its afterAll) ends once. */
  onApplicationShutdown(): Promise<void> {
    this.ended ??= this.pool.end();
    return this.ended;
  }
}

/**
 * The write pool: TypeORM (explicit migrations run at boot) and the raw-SQL event store and
 * projections' write side (projector, calendar, rebuild), which borrow TypeORM's pg pool
 * (provider WRITE_POOL); and the ReadPool of the query endpoints.
 */
@Global()
@Module({})
export class DatabaseModule {
  static forRoot(opts: DatabaseOptions): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRoot({
          type: 'postgres',
          url: opts.url,
          entities: opts.entities,
          migrations: opts.migrations,
          migrationsRun: true,
          migrationsTransactionMode: 'each',
          synchronize: false,
          logging: ['error'],
          poolSize: opts.poolSize,
          extra: {
            max: opts.poolSize,
            application_name: 'compliance-monitor',
            options: sessionOptions(opts.idleInTransactionTimeoutMs),
            connectionTimeoutMillis: 10_000,
            keepAlive: true,
          },
          retryAttempts: 3,
        }),
      ],
      providers: [
        {
          provide: WRITE_POOL,
          inject: [DataSource],
          useFactory: (ds: DataSource) => guardConnectionErrors(poolOf(ds)),
        },
        {
          provide: PgEventStore,
          inject: [WRITE_POOL],
          useFactory: (pool: Pool) => new PgEventStore(pool),
        },
        {
          provide: ReadPool,
          // after the DataSource: migrations have run before the first read connects
          inject: [DataSource],
          useFactory: () =>
            new ReadPool(
              opts.url,
              opts.readPoolSize,
              opts.queryTimeoutMs,
              opts.idleInTransactionTimeoutMs,
            ),
        },
      ],
      exports: [WRITE_POOL, PgEventStore, ReadPool, TypeOrmModule],
    };
  }
}

/** The pg Pool behind a TypeORM postgres DataSource. */
export function poolOf(ds: DataSource): Pool {
  return (ds.driver as unknown as { master: Pool }).master;
}

const guarded = new WeakSet<PoolClient>();
const dbLogger = new Logger('Database');

/**
 * Keeps a lost database connection from killing the process. node-postgres emits 'error' on
 * a client whose connection drops, and pg-pool removes its own listener while the client is
 * checked out, so an outage during a transaction would be an uncaught 'error' event. One
 * listener per pooled client, added at its first checkout; the failing query still rejects
 * and pg-pool discards the dead client on release.
 */
export function guardConnectionErrors(pool: Pool): Pool {
  pool.on('acquire', (client: PoolClient) => {
    if (guarded.has(client)) return;
    guarded.add(client);
    client.on('error', (err: Error) => dbLogger.warn(`connection lost: ${err.message}`));
  });
  pool.on('error', (err: Error) => dbLogger.warn(`idle connection lost: ${err.message}`));
  return pool;
}
