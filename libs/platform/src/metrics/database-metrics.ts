import { Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { ReadPool, poolOf } from '../database.module';
import { Metrics } from './metrics';

/**
 * The connection pools, read at scrape time: `write` (ingestion, projector, admin; the pool
 * behind TypeORM and the event store) and `read` (the query endpoints).
 */
@Injectable()
export class DatabasePoolMetrics {
  constructor(metrics: Metrics, dataSource: DataSource, read: ReadPool) {
    const pools: Array<[string, Pool]> = [
      ['write', poolOf(dataSource)],
      ['read', read.pool],
    ];
    const gauge = (name: string, help: string, value: (p: Pool) => number) =>
      metrics.gauge({
        name,
        help,
        labelNames: ['pool'],
        collect() {
          for (const [pool, p] of pools) this.set({ pool }, value(p));
        },
      });
    gauge(
      'db_pool_connections',
      'Open connections of the pool (idle and in use).',
      (p) => p.totalCount,
    );
    gauge('db_pool_idle_connections', 'Open connections not in use.', (p) => p.idleCount);
    gauge(
      'db_pool_waiting_clients',
      'Queries waiting for a connection of the pool (all in use).',
      (p) => p.waitingCount,
    );
    gauge(
      'db_pool_max_connections',
      'The most connections the pool opens (DB_POOL_SIZE, DB_READ_POOL_SIZE).',
      (p) => p.options.max ?? 10,
    );
  }
}
