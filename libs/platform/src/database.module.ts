import { DynamicModule, Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { PgEventStore } from '@app/event-store';
import type { Pool } from 'pg';
import { DataSource, type MixedList } from 'typeorm';

export interface DatabaseOptions {
  url: string;
  poolSize: number;
  entities: MixedList<Function>;
  migrations: MixedList<Function>;
}

/**
 * One PostgreSQL pool for everything: TypeORM (read-model entities, explicit migrations run
 * at boot) and the raw-SQL event store, which borrows TypeORM's pg pool so that both share
 * one connection budget.
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
          extra: { max: opts.poolSize, application_name: 'compliance-monitor' },
          retryAttempts: 3,
        }),
      ],
      providers: [
        {
          provide: PgEventStore,
          inject: [DataSource],
          useFactory: (ds: DataSource) => new PgEventStore(poolOf(ds)),
        },
      ],
      exports: [PgEventStore, TypeOrmModule],
    };
  }
}

/** The pg Pool behind a TypeORM postgres DataSource. */
export function poolOf(ds: DataSource): Pool {
  return (ds.driver as unknown as { master: Pool }).master;
}
