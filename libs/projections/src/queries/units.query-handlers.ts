import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { meanHalfUp, rateDown } from '@app/domain';
import { NotFoundError, ReadPool } from '@app/platform';
import { LIVE_SCHEMA } from '../read-model-ddl';
import { scopeSql } from './scope';
import { prepaymentStatusSql } from './status-sql';
import {
  GetUnitComplianceQuery,
  ListUnitsQuery,
  type PrepaymentSplit,
  type RuleCompliance,
  type StatusCounts,
  type UnitComplianceView,
  type UnitRankingPage,
  type UnitSort,
} from './units.query';

const RM = `"${LIVE_SCHEMA}"`;
export const RULE_ORDER = ['signing', 'announcement', 'filing', 'acceptance', 'payment'];

const emptyCounts = (): StatusCounts => ({
  met: 0,
  late: 0,
  overdue: 0,
  pending: 0,
  exempted: 0,
  cancelled: 0,
});

/**
 * On-time rate = met / (met + late + overdue), 4 decimals rounded down, computed exactly on
 * integers; null when nothing was due.
 */
export function onTimeRate(c: StatusCounts): number | null {
  return rateDown(c.met, c.met + c.late + c.overdue);
}

/**
 * `(unit_code, rule, status, n)` of the obligations as of day `t` (a SQL expression), from the
 * per-unit summary: each obligation counted under its final status, and those not settled on
 * `t` moved from it to their status on `t` (or out, if not started yet). `whereU` / `whereO`
 * restrict the summary rows (alias u) and the obligations (alias o) alike.
 */
function summaryCountsSql(t: string, whereU: string, whereO: string): string {
  return `SELECT unit_code, rule, status, sum(n)::int AS n FROM (
      SELECT u.unit_code, u.rule, u.status, u.n FROM ${RM}.unit_rule_counts u
       WHERE u.n <> 0 AND ${whereU}
      UNION ALL
      SELECT o.unit_code, o.rule, c.status, c.n FROM ${RM}.obligations o
       CROSS JOIN LATERAL (VALUES (o.final_status, -1), (obligation_status(
         o.started_on, o.deadline, o.fulfilled_on, o.exempted_on, o.cancelled_on, ${t}), 1)) c(status, n)
       WHERE o.settled_on > ${t} AND o.unit_code IS NOT NULL AND ${whereO} AND c.status IS NOT NULL
    ) x GROUP BY 1, 2, 3 HAVING sum(n) <> 0`;
}

const ORDER: Record<UnitSort, string> = {
  onTimeRate: 'rate ASC NULLS LAST, violations DESC, unit_code ASC',
  '-onTimeRate': 'rate DESC NULLS LAST, violations ASC, unit_code ASC',
  violations: 'violations DESC, rate ASC NULLS LAST, unit_code ASC',
  '-violations': 'violations ASC, rate DESC NULLS LAST, unit_code ASC',
  unitCode: 'unit_code ASC',
};

interface RankedUnit {
  unit_code: string;
  cells: Record<string, number>;
  violations: number;
}
interface UnitInfo {
  unit_name: string | null;
  region: string | null;
  contracts: number;
}
interface Ranking {
  units: RankedUnit[];
  info: Map<string, UnitInfo>;
}

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
  private static readonly MAX_CACHED = 16;
  private readonly cache = new Map<string, Promise<Ranking>>();

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
    let ranking = this.cache.get(key);
    if (ranking) {
      this.cache.delete(key); // most recently used last
    } else {
      ranking = this.rank(q);
      ranking.catch(() => this.cache.delete(key));
      if (this.cache.size >= ListUnitsHandler.MAX_CACHED)
        this.cache.delete(this.cache.keys().next().value!);
    }
    this.cache.set(key, ranking);
    const { units, info } = await ranking;
    const offset = (q.page - 1) * q.pageSize;
    const page = units.slice(offset, offset + q.pageSize);
    const missing = page.map((u) => u.unit_code).filter((c) => !info.has(c));
    if (missing.length) {
      // name, region and contract count from the contracts the ranking counted: awarded by
      // asOf, in the caller's regions and the region filter, like the obligations
      const values: unknown[] = [missing, q.asOf];
      const where = [
        'c.unit_code = ANY($1::text[])',
        'c.awarded_on <= $2::date',
        scopeSql(q.scope, 'c', values),
      ];
      if (q.region) where.push(`c.region LIKE $${values.push(`${q.region}%`)}`);
      const r2 = await this.db.pool.query<UnitInfo & { unit_code: string }>(
        `SELECT c.unit_code, (array_agg(c.unit_name ORDER BY c.awarded_on DESC NULLS LAST))[1] AS unit_name,
                (array_agg(c.region ORDER BY c.awarded_on DESC NULLS LAST))[1] AS region, count(*)::int AS contracts
           FROM ${RM}.contracts c WHERE ${where.join(' AND ')} GROUP BY c.unit_code`,
        values,
      );
      for (const r of r2.rows) info.set(r.unit_code, r);
    }
    return {
      asOf: q.asOf,
      sort: q.sort,
      page: q.page,
      pageSize: q.pageSize,
      total: units.length,
      items: page.map((r, i) => {
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
      }),
    };
  }

  /** Forces one way of counting (tests compare both); undefined = the cheaper one. */
  mode: 'summary' | 'direct' | undefined;

  /** Which way reads fewer obligation rows on T, by the planner's estimates. */
  private async cheaperMode(asOf: string): Promise<'summary' | 'direct'> {
    const estimate = async (where: string) => {
      const { rows } = await this.db.pool.query<{
        'QUERY PLAN': [{ Plan: { 'Plan Rows': number } }];
      }>(`EXPLAIN (FORMAT JSON) SELECT 1 FROM ${RM}.obligations WHERE ${where}`, [asOf]);
      return rows[0]['QUERY PLAN'][0].Plan['Plan Rows'];
    };
    const unsettled = await estimate('settled_on > $1::date');
    const started = await estimate('started_on <= $1::date');
    // the summary way reads each unsettled row once and the (small) summary table
    return unsettled <= started ? 'summary' : 'direct';
  }

  /** Every unit with an obligation running on T, sorted. */
  private async rank(q: ListUnitsQuery): Promise<Ranking> {
    const values: unknown[] = [q.asOf];
    const filters = (alias: string): string => {
      const w: string[] = [];
      if (q.rule) w.push(`${alias}.rule = $${values.push(q.rule)}`);
      if (q.region) w.push(`${alias}.region LIKE $${values.push(`${q.region}%`)}`);
      w.push(scopeSql(q.scope, alias, values));
      return w.join(' AND ');
    };
    // Two equal answers (property test (d)): the summary corrected by the obligations not
    // settled on T, or every obligation started by T counted directly. For a recent T the
    // first reads few rows; far back most obligations settled after T and the second reads
    // fewer. The planner's row estimates choose.
    const direct = (this.mode ?? (await this.cheaperMode(q.asOf))) === 'direct';
    const per = direct
      ? `SELECT o.unit_code, o.rule,
                obligation_status(o.started_on, o.deadline, o.fulfilled_on, o.exempted_on, o.cancelled_on, $1::date) AS status,
                count(*)::int AS n
           FROM ${RM}.obligations o
          WHERE o.started_on <= $1::date AND o.unit_code IS NOT NULL AND ${filters('o')}
          GROUP BY 1, 2, 3`
      : summaryCountsSql('$1::date', filters('u'), filters('o'));
    const { rows } = await this.db.pool.query<RankedUnit & { rate: string | null }>(
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
    return {
      units: rows.map((r) => ({
        unit_code: r.unit_code,
        cells: r.cells,
        violations: r.violations,
      })),
      info: new Map(),
    };
  }
}

@QueryHandler(GetUnitComplianceQuery)
export class GetUnitComplianceHandler implements IQueryHandler<GetUnitComplianceQuery> {
  constructor(private readonly db: ReadPool) {}

  async execute(q: GetUnitComplianceQuery): Promise<UnitComplianceView> {
    const cv: unknown[] = [q.unitCode, q.asOf];
    const cScope = scopeSql(q.scope, 'c', cv);
    // The unit exists if it has a contract in scope at all; its name, region, contracts and
    // prepayment targets on asOf are those of the contracts awarded by then.
    const head = await this.db.pool.query(
      `SELECT count(*)::int AS known,
              (array_agg(unit_name ORDER BY awarded_on DESC NULLS LAST) FILTER (WHERE awarded))[1] AS unit_name,
              (array_agg(region ORDER BY awarded_on DESC NULLS LAST) FILTER (WHERE awarded))[1] AS region,
              count(*) FILTER (WHERE awarded)::int AS contracts,
              count(*) FILTER (WHERE sme AND ps = 'met')::int AS sme_met,
              count(*) FILTER (WHERE sme AND ps = 'below')::int AS sme_below,
              count(*) FILTER (WHERE sme AND ps = 'pending')::int AS sme_pending,
              count(*) FILTER (WHERE sme AND ps = 'exempted')::int AS sme_exempted,
              count(*) FILTER (WHERE NOT coalesce(sme, false) AND ps = 'met')::int AS non_met,
              count(*) FILTER (WHERE NOT coalesce(sme, false) AND ps = 'below')::int AS non_below,
              count(*) FILTER (WHERE NOT coalesce(sme, false) AND ps = 'pending')::int AS non_pending,
              count(*) FILTER (WHERE NOT coalesce(sme, false) AND ps = 'exempted')::int AS non_exempted
         FROM (SELECT c.unit_name, c.region, c.awarded_on, c.sme, c.awarded_on <= $2::date AS awarded,
                      CASE WHEN c.awarded_on <= $2::date THEN ${prepaymentStatusSql('c', '$2::date')} END AS ps
                 FROM ${RM}.contracts c WHERE c.unit_code = $1 AND ${cScope}) c`,
      cv,
    );
    const h = head.rows[0];
    if (!h || h.known === 0)
      throw new NotFoundError(`purchasing unit ${q.unitCode} not found`, 'UNIT.NOT_FOUND');
    const counts = await this.counts(q);
    // Delays: only obligations that were ever late or overdue can be (the partial index of
    // the violation list); working days from the calendar's running index, looked up per row
    // (LIMIT 1 keeps them index lookups: hashing the 36,890-day calendar twice cost ~26 ms).
    const values: unknown[] = [q.unitCode, q.asOf];
    const where = [
      'o.unit_code = $1',
      'o.started_on <= $2::date',
      '(o.fulfilled_on IS NULL OR o.fulfilled_on > o.deadline)',
      'o.deadline < $2::date',
      ...this.period(q, values),
      scopeSql(q.scope, 'o', values),
    ];
    const args = `o.started_on, o.deadline, o.fulfilled_on, o.exempted_on, o.cancelled_on, $2::date`;
    // the median is percentile_cont(0.5): the middle value, or the mean of the two middle ones
    const { rows: delays } = await this.db.pool.query<{
      rule: string;
      nd: number;
      dsum: string | null;
      dmed: number | null;
      nw: number;
      wsum: string | null;
      wmed: number | null;
    }>(
      `SELECT x.rule, count(*)::int AS nd, sum(x.delay_end - x.deadline)::text AS dsum,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY x.delay_end - x.deadline) AS dmed,
              count(e.working_index)::int AS nw, sum(e.working_index - d.working_index)::text AS wsum,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY e.working_index - d.working_index) AS wmed
         FROM (SELECT o.rule, o.deadline, o.working_day_rule, obligation_delay_end(${args}) AS delay_end
                 FROM ${RM}.obligations o WHERE ${where.join(' AND ')}) x
         LEFT JOIN LATERAL (SELECT working_index FROM business_days
                             WHERE x.working_day_rule AND day = x.delay_end LIMIT 1) e ON true
         LEFT JOIN LATERAL (SELECT working_index FROM business_days
                             WHERE x.working_day_rule AND day = x.deadline LIMIT 1) d ON true
        WHERE x.delay_end IS NOT NULL
        GROUP BY x.rule`,
      values,
    );
    const byRule = new Map(delays.map((r) => [r.rule, r]));
    const all = emptyCounts();
    // 2 decimals rounded half up, on the integer sum (exact)
    const mean = (sum: string | null, n: number) => (sum === null ? null : meanHalfUp(sum, n));
    const rules: RuleCompliance[] = RULE_ORDER.map((rule) => {
      const r = byRule.get(rule);
      const c = counts.get(rule) ?? emptyCounts();
      for (const k of Object.keys(all) as (keyof StatusCounts)[]) all[k] += c[k];
      return {
        rule,
        counts: c,
        total: Object.values(c).reduce((a, n) => a + n, 0),
        onTimeRate: onTimeRate(c),
        meanDelayDays: r ? mean(r.dsum, r.nd) : null,
        medianDelayDays: r?.dmed ?? null,
        meanDelayWorkingDays: rule === 'signing' || !r ? null : mean(r.wsum, r.nw),
        medianDelayWorkingDays: rule === 'signing' ? null : (r?.wmed ?? null),
      };
    });
    const split = (p: string, threshold: string): PrepaymentSplit => ({
      threshold,
      contracts: h[`${p}_met`] + h[`${p}_below`] + h[`${p}_pending`] + h[`${p}_exempted`],
      met: h[`${p}_met`],
      below: h[`${p}_below`],
      pending: h[`${p}_pending`],
      exempted: h[`${p}_exempted`],
    });
    return {
      unitCode: q.unitCode,
      unitName: h.unit_name,
      region: h.region,
      asOf: q.asOf,
      from: q.from ?? null,
      to: q.to ?? null,
      contracts: h.contracts,
      onTimeRate: onTimeRate(all),
      rules,
      prepayment: { sme: split('sme', '0.50'), nonSme: split('non', '0.30') },
    };
  }

  /** Deadline period conditions (from/to filter on the deadline). */
  private period(q: GetUnitComplianceQuery, values: unknown[]): string[] {
    const w: string[] = [];
    if (q.from) w.push(`o.deadline >= $${values.push(q.from)}::date`);
    if (q.to) w.push(`o.deadline <= $${values.push(q.to)}::date`);
    return w;
  }

  /**
   * Counts by rule and status as of T. Without a period: the unit's rows of unit_rule_counts,
   * corrected for its obligations not settled on T (as the ranking does). A deadline period
   * cannot come from the summary: then every obligation of the unit in the period is counted.
   */
  private async counts(q: GetUnitComplianceQuery): Promise<Map<string, StatusCounts>> {
    const values: unknown[] = [q.unitCode, q.asOf];
    const st = `obligation_status(o.started_on, o.deadline, o.fulfilled_on, o.exempted_on, o.cancelled_on, $2::date)`;
    let text: string;
    if (q.from || q.to) {
      const where = [
        'o.unit_code = $1',
        'o.started_on <= $2::date',
        ...this.period(q, values),
        scopeSql(q.scope, 'o', values),
      ];
      text = `SELECT o.rule, ${st} AS status, count(*)::int AS n FROM ${RM}.obligations o
               WHERE ${where.join(' AND ')} GROUP BY 1, 2`;
    } else {
      const scopeU = scopeSql(q.scope, 'u', values);
      const scopeO = scopeSql(q.scope, 'o', values);
      text = `SELECT rule, status, n FROM (${summaryCountsSql(
        '$2::date',
        `u.unit_code = $1 AND ${scopeU}`,
        `o.unit_code = $1 AND ${scopeO}`,
      )}) s`;
    }
    const { rows } = await this.db.pool.query<{ rule: string; status: string; n: number }>(
      text,
      values,
    );
    const out = new Map<string, StatusCounts>();
    for (const r of rows) {
      if (r.status === null || r.n === 0) continue;
      let c = out.get(r.rule);
      if (!c) out.set(r.rule, (c = emptyCounts()));
      c[r.status as keyof StatusCounts] += r.n;
    }
    return out;
  }
}
