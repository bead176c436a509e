import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { Sql } from '@app/event-store';
import { ReadPool } from '@app/platform';
import { scopeSql } from './scope';
import { emptyCounts, onTimeRate, RM, summaryCountsSql } from './unit-counts';
import { UnitRankingCache } from './unit-ranking-cache';
import {
  ListUnitsQuery,
  type StatusCounts,
  type UnitRankingItem,
  type UnitRankingPage,
  type UnitSort,
} from './units.query';

const ORDER: Record<UnitSort, string> = {
  onTimeRate: 'rate ASC NULLS LAST, violations DESC, unit_code ASC',
  '-onTimeRate': 'rate DESC NULLS LAST, violations ASC, unit_code ASC',
  violations: 'violations DESC, rate ASC NULLS LAST, unit_code ASC',
  '-violations': 'violations ASC, rate DESC NULLS LAST, unit_code ASC',
  unitCode: 'unit_code ASC',
};

export interface RankedUnit {
  unit_code: string;
  /** `rule:status` → obligations */
  cells: Record<string, number>;
  violations: number;
}
export interface UnitInfo {
  unit_name: string | null;
  region: string | null;
  contracts: number;
}
interface Ranking {
  units: RankedUnit[];
  /**
   * the pages served so far, by (page, page size), with their units' names, regions and
   * contract counts: building a page's items from the ranked cells took about a quarter of
   * the service's CPU per cached request at large (profile in docs/benchmarks.md)
   */
  pages: UnitRankingCache<UnitRankingPage>;
}

/** Pages kept per ranking (page × page size); beyond it the least recently used is dropped. */
const PAGES_PER_RANKING = 256;
/** characters of the pages' JSON texts one ranking keeps: 2 M (~4 MB; 16 rankings ~64 MB) */
const PAGE_CHARS_PER_RANKING = 2_000_000;

/** The two ways of counting a ranking (see `rankUnits`). */
export type CountingWay = 'summary' | 'direct';
/** What a ranking depends on. */
export type RankingFilter = Pick<ListUnitsQuery, 'asOf' | 'rule' | 'region' | 'scope' | 'sort'>;

/**
 * `GET /v1/units`. Counting every obligation's status as of T on each request grows with the
 * whole table (seconds at a million contracts), so the ranking is assembled from
 * `unit_rule_counts` — each obligation counted once under its final status, kept by the
 * projector — corrected row by row only for the obligations not yet settled on T
 * (`settled_on > T`: few for recent dates, more the further back T lies). A ranking is the
 * same for every page and only changes when the read model does, so it is kept, per filter
 * set, for the summary version it was computed from (`summary_state.version`, moved by every
 * projector write): paging and repeated requests cost one indexed read of the version.
 */
@QueryHandler(ListUnitsQuery)
export class ListUnitsHandler implements IQueryHandler<ListUnitsQuery> {
  /** the rankings (never sent as they are: not shared) */
  private readonly cache = new UnitRankingCache<Ranking>({
    max: 16,
    maxChars: Infinity,
    share: false,
  });

  constructor(private readonly db: ReadPool) {}

  async execute(q: ListUnitsQuery): Promise<UnitRankingPage> {
    if (q.scope?.supplierCreditCode !== undefined)
      throw new Error('unit rankings are not available to a supplier scope');
    const { rows: state } = await this.db.pool.query<{ version: string }>(
      `SELECT version FROM ${RM}.summary_state`,
    );
    const key = JSON.stringify([
      state[0]?.version ?? null,
      q.asOf,
      q.rule ?? null,
      q.region ?? null,
      q.scope?.regions ?? null,
      q.sort,
    ]);
    const ranking = await this.cache.get(key, async () => ({
      units: await rankUnits(this.db.pool, q, await cheaperWay(this.db.pool, q.asOf)),
      pages: new UnitRankingCache<UnitRankingPage>({
        max: PAGES_PER_RANKING,
        maxChars: PAGE_CHARS_PER_RANKING,
      }),
    }));
    // the whole page is kept (asOf and sort are in the ranking's key), so that it goes out as
    // the same shared answer every time
    return ranking.pages.get(`${q.page}:${q.pageSize}`, async () => ({
      asOf: q.asOf,
      sort: q.sort,
      page: q.page,
      pageSize: q.pageSize,
      total: ranking.units.length,
      items: await this.pageItems(ranking.units, q),
    }));
  }

  /** The items of one page of a ranking, with the units' names, regions and contract counts. */
  private async pageItems(units: RankedUnit[], q: ListUnitsQuery): Promise<UnitRankingItem[]> {
    const offset = (q.page - 1) * q.pageSize;
    const page = units.slice(offset, offset + q.pageSize);
    const info = page.length
      ? await unitInfo(
          this.db.pool,
          page.map((u) => u.unit_code),
          q,
        )
      : new Map<string, UnitInfo>();
    return page.map((r, i) => {
      const counts = emptyCounts();
      const rules: Record<string, StatusCounts & { onTimeRate: number | null }> = {};
      for (const [cell, n] of Object.entries(r.cells)) {
        const [rule, status] = cell.split(':') as [string, keyof StatusCounts];
        counts[status] += n;
        rules[rule] ??= { ...emptyCounts(), onTimeRate: null };
        rules[rule][status] += n;
      }
      for (const k of Object.keys(rules)) rules[k].onTimeRate = onTimeRate(rules[k]);
      const u = info.get(r.unit_code);
      return {
        rank: offset + i + 1,
        unitCode: r.unit_code,
        unitName: u?.unit_name ?? null,
        region: u?.region ?? null,
        contracts: u?.contracts ?? 0,
        onTimeRate: onTimeRate(counts),
        violations: r.violations,
        counts,
        rules,
      };
    });
  }
}

/**
 * Name, region and contract count of some units, from the contracts a ranking counted:
 * awarded by asOf, in the caller's regions and the region filter, like the obligations.
 */
export async function unitInfo(
  db: Sql,
  codes: string[],
  q: Pick<RankingFilter, 'asOf' | 'region' | 'scope'>,
): Promise<Map<string, UnitInfo>> {
  const values: unknown[] = [codes, q.asOf];
  const where = [
    'c.unit_code = ANY($1::text[])',
    'c.awarded_on <= $2::date',
    scopeSql(q.scope, 'c', values),
  ];
  if (q.region) where.push(`c.region LIKE $${values.push(`${q.region}%`)}`);
  const { rows } = await db.query<UnitInfo & { unit_code: string }>(
    `SELECT c.unit_code, (array_agg(c.unit_name ORDER BY c.awarded_on DESC NULLS LAST))[1] AS unit_name,
            (array_agg(c.region ORDER BY c.awarded_on DESC NULLS LAST))[1] AS region, count(*)::int AS contracts
       FROM ${RM}.contracts c WHERE ${where.join(' AND ')} GROUP BY c.unit_code`,
    values,
  );
  return new Map(rows.map((r) => [r.unit_code, r]));
}

/** Which way reads fewer obligation rows on T, by the planner's estimates. */
export async function cheaperWay(db: Sql, asOf: string): Promise<CountingWay> {
  const estimate = async (where: string) => {
    const { rows } = await db.query<{
      'QUERY PLAN': [{ Plan: { 'Plan Rows': number } }];
    }>(`EXPLAIN (FORMAT JSON) SELECT 1 FROM ${RM}.obligations WHERE ${where}`, [asOf]);
    return rows[0]['QUERY PLAN'][0].Plan['Plan Rows'];
  };
  const unsettled = await estimate('settled_on > $1::date');
  const started = await estimate('started_on <= $1::date');
  // the summary way reads each unsettled row once and the (small) summary table
  return unsettled <= started ? 'summary' : 'direct';
}

/**
 * Every unit with an obligation running on T, sorted, counted one of two ways with equal
 * answers (property test (d)): `summary`, the per-unit summary corrected by the obligations
 * not settled on T; or `direct`, every obligation started by T counted. For a recent T the
 * first reads few rows; far back most obligations settled after T and the second reads
 * fewer (`cheaperWay` chooses).
 */
export async function rankUnits(
  db: Sql,
  q: RankingFilter,
  way: CountingWay,
): Promise<RankedUnit[]> {
  const values: unknown[] = [q.asOf];
  const filters = (alias: string): string => {
    const w: string[] = [];
    if (q.rule) w.push(`${alias}.rule = $${values.push(q.rule)}`);
    if (q.region) w.push(`${alias}.region LIKE $${values.push(`${q.region}%`)}`);
    w.push(scopeSql(q.scope, alias, values));
    return w.join(' AND ');
  };
  const direct = way === 'direct';
  const per = direct
    ? `SELECT o.unit_code, o.rule,
              obligation_status(o.started_on, o.deadline, o.fulfilled_on, o.exempted_on, o.cancelled_on, $1::date) AS status,
              count(*)::int AS n
         FROM ${RM}.obligations o
        WHERE o.started_on <= $1::date AND o.unit_code IS NOT NULL AND ${filters('o')}
        GROUP BY 1, 2, 3`
    : summaryCountsSql('$1::date', filters('u'), filters('o'));
  const { rows } = await db.query<RankedUnit & { rate: string | null }>(
    `WITH per AS (${per}), units AS (
       SELECT unit_code,
              jsonb_object_agg(rule || ':' || status, n) AS cells,
              sum(n) FILTER (WHERE status = 'met') AS met,
              sum(n) FILTER (WHERE status IN ('late', 'overdue')) AS violations_n,
              sum(n) FILTER (WHERE status IN ('met', 'late', 'overdue')) AS due
         FROM per GROUP BY unit_code
     )
     SELECT unit_code, cells, coalesce(violations_n, 0)::int AS violations,
            CASE WHEN coalesce(due, 0) = 0 THEN NULL ELSE coalesce(met, 0)::numeric / due END AS rate
       FROM units
      ORDER BY ${ORDER[q.sort]}`,
    values,
  );
  return rows.map((r) => ({
    unit_code: r.unit_code,
    cells: r.cells,
    violations: r.violations,
  }));
}
