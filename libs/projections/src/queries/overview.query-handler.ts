import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { fenToYuan } from '@app/domain';
import type { Sql } from '@app/event-store';
import { ReadPool } from '@app/platform';
import { cheaperWay, rankUnits, unitInfo } from './list-units.query-handler';
import {
  GetOverviewQuery,
  OVERVIEW_WORST_UNITS,
  type OverviewCounts,
  type OverviewView,
} from './overview.query';
import { scopeSql } from './scope';
import { smeInterestTotalSql } from './sme-payment-sql';
import { emptyCounts, onTimeRate, RM, RULE_ORDER } from './unit-counts';
import { UnitRankingCache } from './unit-ranking-cache';
import type { StatusCounts } from './units.query';

const STATUSES = Object.keys(emptyCounts()) as (keyof StatusCounts)[];

export function overviewCounts(c: StatusCounts): OverviewCounts {
  return {
    counts: c,
    total: STATUSES.reduce((a, s) => a + c[s], 0),
    onTimeRate: onTimeRate(c),
    open: c.pending + c.overdue,
    overdue: c.overdue,
    violations: c.late + c.overdue,
  };
}

/**
 * `GET /v1/overview`. The unit ranking of `GET /v1/units` (sorted worst first: per-unit
 * summary corrected by the obligations not settled on asOf, or counted directly, whichever
 * reads fewer rows) summed over its units: no obligation is read twice and the answer agrees
 * with the ranking to the unit. The whole answer (the worst units' names included: every
 * projector write moves the summary version) is kept per (summary version, asOf, region,
 * scope) like the ranking, so a dashboard reloading the page costs one indexed read of the
 * version.
 */
@QueryHandler(GetOverviewQuery)
export class GetOverviewHandler implements IQueryHandler<GetOverviewQuery> {
  private readonly cache = new UnitRankingCache<OverviewView>({ max: 16 });

  constructor(private readonly db: ReadPool) {}

  async execute(q: GetOverviewQuery): Promise<OverviewView> {
    if (q.scope?.supplierCreditCode !== undefined)
      throw new Error('the overview is not available to a supplier scope');
    const { rows: state } = await this.db.pool.query<{ version: string }>(
      `SELECT version FROM ${RM}.summary_state`,
    );
    const key = JSON.stringify([
      state[0]?.version ?? null,
      q.asOf,
      q.region ?? null,
      q.scope?.regions ?? null,
    ]);
    return this.cache.get(key, () => this.compute(q));
  }

  private async compute(q: GetOverviewQuery): Promise<OverviewView> {
    const filter = { asOf: q.asOf, region: q.region, scope: q.scope, rule: undefined };
    const [units, interestFen] = await Promise.all([
      cheaperWay(this.db.pool, q.asOf).then((way) =>
        rankUnits(this.db.pool, { ...filter, sort: 'onTimeRate' }, way),
      ),
      smeLateInterestFen(this.db.pool, q),
    ]);
    const all = emptyCounts();
    const byRule = new Map<string, StatusCounts>(RULE_ORDER.map((r) => [r, emptyCounts()]));
    const perUnit = units.map((u) => {
      const counts = emptyCounts();
      for (const [cell, n] of Object.entries(u.cells)) {
        const [rule, status] = cell.split(':') as [string, keyof StatusCounts];
        counts[status] += n;
        all[status] += n;
        let r = byRule.get(rule);
        if (!r) byRule.set(rule, (r = emptyCounts()));
        r[status] += n;
      }
      return { unitCode: u.unit_code, counts, violations: u.violations };
    });
    // sorted worst first, units with nothing due (rate null) last
    const worst = perUnit
      .filter((u) => onTimeRate(u.counts) !== null)
      .slice(0, OVERVIEW_WORST_UNITS);
    const info = worst.length
      ? await unitInfo(
          this.db.pool,
          worst.map((u) => u.unitCode),
          filter,
        )
      : new Map();
    return {
      asOf: q.asOf,
      region: q.region ?? null,
      totals: { ...overviewCounts(all), units: units.length },
      rules: [...byRule].map(([rule, c]) => ({ rule, ...overviewCounts(c) })),
      worstUnits: worst.map((u) => ({
        unitCode: u.unitCode,
        unitName: info.get(u.unitCode)?.unit_name ?? null,
        region: info.get(u.unitCode)?.region ?? null,
        onTimeRate: onTimeRate(u.counts),
        violations: u.violations,
        counts: u.counts,
      })),
      smeLateInterest: fenToYuan(interestFen),
    };
  }
}

/**
 * SME late interest (SPEC §7) on asOf of the obligations of the units in view, in fen: the
 * per-unit summary of final interest corrected by the obligations not final on asOf
 * (smeInterestTotalSql); the overview has no supplier scope.
 */
async function smeLateInterestFen(db: Sql, q: GetOverviewQuery): Promise<bigint> {
  const values: unknown[] = [q.asOf];
  const whereU = [scopeSql(q.scope, 'u', values)];
  const whereO = [scopeSql(q.scope, 'o', values)];
  if (q.region) {
    const i = values.push(`${q.region}%`);
    whereU.push(`u.region LIKE $${i}`);
    whereO.push(`o.region LIKE $${i}`);
  }
  const { rows } = await db.query<{ fen: string }>(
    `SELECT ${smeInterestTotalSql('$1::date', whereU.join(' AND '), whereO.join(' AND '))}::text AS fen`,
    values,
  );
  return BigInt(rows[0].fen);
}
