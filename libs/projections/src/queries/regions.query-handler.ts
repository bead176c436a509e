import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { ReadPool } from '@app/platform';
import { overviewCounts } from './overview.query-handler';
import { GetRegionsQuery, type RegionsView } from './regions.query';
import { scopeSql } from './scope';
import type { Sql } from '@app/event-store';
import { cheaperWay, type CountingWay } from './list-units.query-handler';
import { emptyCounts, readModelVersion, RM, RULE_ORDER, summaryCountsSql } from './unit-counts';
import { UnitRankingCache } from './unit-ranking-cache';
import type { StatusCounts } from './units.query';

/**
 * `GET /v1/regions`: counted as the unit ranking counts, by region as well — the per-unit
 * summary (`unit_rule_counts` is kept per unit, region, rule and final status) corrected for
 * the obligations not settled on asOf, or, far back where most are not settled yet, every
 * obligation started by asOf directly (`cheaperWay` chooses; at 2 M obligations the summary
 * way took ~0.1 s for a recent day and ~3 s for one 4½ years back, the direct way ~1.5 s there) — so a region's figures
 * are the sum of its units' there.
 */
@QueryHandler(GetRegionsQuery)
export class GetRegionsHandler implements IQueryHandler<GetRegionsQuery> {
  /** answers per (read-model version, asOf, rule, scope): a few KB each (one item per region) */
  private readonly cache = new UnitRankingCache<RegionsView>({ max: 32 });

  constructor(private readonly db: ReadPool) {}

  /**
   * Kept for the read-model version it was computed from, like the ranking: the overview asks
   * it on every load, and it counts every unit's obligations.
   */
  async execute(q: GetRegionsQuery): Promise<RegionsView> {
    if (q.scope?.supplierCreditCode !== undefined)
      throw new Error('region figures are not available to a supplier scope');
    const key = JSON.stringify([
      await readModelVersion(this.db.pool),
      q.asOf,
      q.rule ?? null,
      q.scope?.regions ?? null,
    ]);
    return this.cache.get(key, () => this.compute(q));
  }

  private async compute(q: GetRegionsQuery): Promise<RegionsView> {
    const rows = await countRegions(this.db.pool, q, await cheaperWay(this.db.pool, q.asOf));
    const regions = new Map<
      string,
      { units: Set<string>; all: StatusCounts; rules: Map<string, StatusCounts> }
    >();
    for (const r of rows) {
      if (r.status === null || r.n === 0) continue;
      let g = regions.get(r.region);
      if (!g) {
        const rules = RULE_ORDER.filter((x) => !q.rule || x === q.rule);
        g = {
          units: new Set(),
          all: emptyCounts(),
          rules: new Map(rules.map((x) => [x, emptyCounts()])),
        };
        regions.set(r.region, g);
      }
      g.units.add(r.unit_code);
      g.all[r.status] += r.n;
      let c = g.rules.get(r.rule);
      if (!c) g.rules.set(r.rule, (c = emptyCounts()));
      c[r.status] += r.n;
    }
    const codes = [...regions.keys()].sort((a, b) =>
      a === '' ? 1 : b === '' ? -1 : a < b ? -1 : a > b ? 1 : 0,
    );
    return {
      asOf: q.asOf,
      rule: q.rule ?? null,
      items: codes.map((code) => {
        const g = regions.get(code)!;
        return {
          region: code === '' ? null : code,
          units: g.units.size,
          ...overviewCounts(g.all),
          rules: [...g.rules].map(([rule, c]) => ({ rule, ...overviewCounts(c) })),
        };
      }),
    };
  }
}

export interface RegionCountRow {
  unit_code: string;
  /** '' for a unit without a region */
  region: string;
  rule: string;
  status: keyof StatusCounts;
  n: number;
}

/** `(unit, region, rule, status, n)` as of asOf, counted one way or the other (equal answers). */
export async function countRegions(
  db: Sql,
  q: Pick<GetRegionsQuery, 'asOf' | 'rule' | 'scope'>,
  way: CountingWay,
): Promise<RegionCountRow[]> {
  const values: unknown[] = [q.asOf];
  const filters = (alias: string): string => {
    const w: string[] = [];
    if (q.rule) w.push(`${alias}.rule = $${values.push(q.rule)}`);
    w.push(scopeSql(q.scope, alias, values));
    return w.join(' AND ');
  };
  const { rows } = await db.query<RegionCountRow>(
    way === 'summary'
      ? summaryCountsSql('$1::date', filters('u'), filters('o'), true)
      : `SELECT o.unit_code, coalesce(o.region, '') AS region, o.rule,
                  obligation_status(o.started_on, o.deadline, o.fulfilled_on, o.exempted_on, o.cancelled_on, $1::date) AS status,
                  count(*)::int AS n
             FROM ${RM}.obligations o
            WHERE o.started_on <= $1::date AND o.unit_code IS NOT NULL AND ${filters('o')}
            GROUP BY 1, 2, 3, 4`,
    values,
  );
  return rows;
}
