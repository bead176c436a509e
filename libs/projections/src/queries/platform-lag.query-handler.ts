import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { ReadPool } from '@app/platform';
import { GetPlatformLagQuery, type PlatformLagView } from './platform-lag.query';
import { scopeSql } from './scope';
import { RM } from './unit-counts';

const round = (x: number, decimals: number) => Math.round(x * 10 ** decimals) / 10 ** decimals;

/**
 * `GET /v1/platforms/lag`. Reads the event store's `events` table through the read pool (as
 * the contract history does): the lag is a fact of each stored event — its recorded time
 * beside its business time — which no read model keeps, and percentiles cannot be summed
 * from per-day aggregates. The controller bounds the period (92 days at most) and
 * `events_recorded_at_brin` (a BRIN index: the table is append-only and `recorded_at` grows
 * with it) limits the read to the blocks of that period. A region-limited inspector counts
 * only the events of contracts in its regions (per the read model).
 * See docs/decisions.md "Platform lag".
 */
@QueryHandler(GetPlatformLagQuery)
export class GetPlatformLagHandler implements IQueryHandler<GetPlatformLagQuery> {
  constructor(private readonly db: ReadPool) {}

  async execute(q: GetPlatformLagQuery): Promise<PlatformLagView> {
    if (q.scope?.supplierCreditCode !== undefined)
      throw new Error('platform lag is not available to a supplier scope');
    const values: unknown[] = [q.from, q.to];
    const scoped = q.scope?.regions
      ? `AND EXISTS (SELECT 1 FROM ${RM}.contracts c
                      WHERE c.contract_id = e.stream_id AND ${scopeSql(q.scope, 'c', values)})`
      : '';
    const { rows } = await this.db.pool.query<{
      platform_id: string | null;
      type: string;
      n: number;
      median: number;
      p95: number;
      max: number;
    }>(
      `SELECT platform_id, type, count(*)::int AS n,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY lag) AS median,
              percentile_cont(0.95) WITHIN GROUP (ORDER BY lag) AS p95,
              max(lag) AS max
         FROM (SELECT e.metadata->'source'->>'platformId' AS platform_id, e.type,
                      extract(epoch FROM e.recorded_at - e.occurred_at)::float8 AS lag
                 FROM events e
                WHERE e.recorded_at >= ($1::date)::timestamp AT TIME ZONE 'Asia/Shanghai'
                  AND e.recorded_at < ($2::date + 1)::timestamp AT TIME ZONE 'Asia/Shanghai'
                  ${scoped}) x
        GROUP BY 1, 2 ORDER BY 1 NULLS LAST, 2`,
      values,
    );
    return {
      from: q.from,
      to: q.to,
      items: rows.map((r) => ({
        platformId: r.platform_id,
        type: r.type,
        events: r.n,
        medianSeconds: round(r.median, 3),
        p95Seconds: round(r.p95, 3),
        maxSeconds: round(r.max, 3),
        medianHours: round(r.median / 3600, 2),
        p95Hours: round(r.p95 / 3600, 2),
      })),
    };
  }
}
