import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { fenToYuan, meanHalfUp } from '@app/domain';
import { NotFoundError, ReadPool } from '@app/platform';
import { scopeSql } from './scope';
import { smeInterestOneByOneSql, smeInterestTotalSql } from './sme-payment-sql';
import { prepaymentStatusSql } from './status-sql';
import {
  emptyCounts,
  onTimeRate,
  readModelVersion,
  RM,
  RULE_ORDER,
  summaryCountsSql,
} from './unit-counts';
import { UnitRankingCache } from './unit-ranking-cache';
import {
  GetUnitComplianceQuery,
  type PrepaymentSplit,
  type RuleCompliance,
  type StatusCounts,
  type UnitComplianceView,
} from './units.query';

@QueryHandler(GetUnitComplianceQuery)
export class GetUnitComplianceHandler implements IQueryHandler<GetUnitComplianceQuery> {
  /**
   * answers per (read-model version, unit, asOf, period, scope): 3.4 KB of heap each (measured
   * at large), so every unit of the large scale's 5,000 as of one day is ~17 MB
   */
  private readonly cache = new UnitRankingCache<UnitComplianceView>({ max: 5000 });

  constructor(private readonly db: ReadPool) {}

  /**
   * One unit's compliance, kept for the read-model version it was computed from (the summary
   * version and the applied calendar): a repeated request costs one read of that version until
   * the projector writes again. The key holds the caller's scope (regions, supplier), so an
   * answer is only ever served to the scope it was computed for.
   */
  async execute(q: GetUnitComplianceQuery): Promise<UnitComplianceView> {
    const key = JSON.stringify([
      await readModelVersion(this.db.pool),
      q.unitCode,
      q.asOf,
      q.from ?? null,
      q.to ?? null,
      q.scope?.regions ?? null,
      q.scope?.supplierCreditCode ?? null,
    ]);
    return this.cache.get(key, () => this.compute(q));
  }

  /**
   * One statement, one round trip: the unit's head (name, region, contracts, prepayment), its
   * counts, SME interest and delays as four sub-selects sharing one parameter list. Five
   * statements (four after the version) cost a third more CPU per request at large, most of
   * it in the socket writes of the extra round trips (profile in docs/benchmarks.md).
   */
  private async compute(q: GetUnitComplianceQuery): Promise<UnitComplianceView> {
    const v: unknown[] = [q.unitCode, q.asOf];
    const { rows } = await this.db.query<{
      head: UnitHead;
      counts: Array<{ rule: string; status: string; n: number }>;
      interest: string;
      delays: Array<{
        rule: string;
        nd: number;
        dsum: string | null;
        dmed: number | null;
        nw: number;
        wsum: string | null;
        wmed: number | null;
      }>;
    }>(
      `SELECT (SELECT row_to_json(h) FROM (${this.headSql(q, v)}) h) AS head,
              (SELECT coalesce(json_agg(x), '[]'::json) FROM (${this.countsSql(q, v)}) x) AS counts,
              ${this.interestSql(q, v)}::text AS interest,
              (SELECT coalesce(json_agg(x), '[]'::json) FROM (${this.delaysSql(q, v)}) x) AS delays`,
      v,
    );
    const { head: h, delays } = rows[0];
    if (!h || h.known === 0)
      throw new NotFoundError(`purchasing unit ${q.unitCode} not found`, 'UNIT.NOT_FOUND');
    const counts = countsByRule(rows[0].counts);
    const smeLateInterest = fenToYuan(BigInt(rows[0].interest));
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
        // null where no late obligation counts working days (calendar-day settings)
        meanDelayWorkingDays: r ? mean(r.wsum, r.nw) : null,
        medianDelayWorkingDays: r?.wmed ?? null,
      };
    });
    const split = (p: 'sme' | 'non', threshold: string): PrepaymentSplit => ({
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
      smeLateInterest,
    };
  }

  /**
   * The unit exists if it has a contract in scope at all; its name, region, contracts and
   * prepayment targets on asOf are those of the contracts awarded by then.
   */
  private headSql(q: GetUnitComplianceQuery, v: unknown[]): string {
    return `SELECT count(*)::int AS known,
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
                 FROM ${RM}.contracts c WHERE c.unit_code = $1 AND ${scopeSql(q.scope, 'c', v)}) c`;
  }

  /**
   * Delays: only obligations that were ever late or overdue can be (the partial index of the
   * violation list); working days from the calendar's running index, looked up per row (LIMIT
   * 1 keeps them index lookups: hashing the 36,890-day calendar twice cost ~26 ms). The median
   * is percentile_cont(0.5): the middle value, or the mean of the two middle ones.
   */
  private delaysSql(q: GetUnitComplianceQuery, v: unknown[]): string {
    const where = [
      'o.unit_code = $1',
      'o.started_on <= $2::date',
      '(o.fulfilled_on IS NULL OR o.fulfilled_on > o.deadline)',
      'o.deadline < $2::date',
      ...this.period(q, v),
      scopeSql(q.scope, 'o', v),
    ];
    const args = `o.started_on, o.deadline, o.fulfilled_on, o.exempted_on, o.cancelled_on, $2::date`;
    return `SELECT x.rule, count(*)::int AS nd, sum(x.delay_end - x.deadline)::text AS dsum,
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
        GROUP BY x.rule`;
  }

  /**
   * The unit's SME late interest as of T (SPEC §7), over the obligations of the period, as a
   * scalar expression. Without a period or a supplier scope: the unit's summary of final
   * interest corrected by its obligations not final on T (smeInterestTotalSql); else each
   * obligation of the period.
   */
  private interestSql(q: GetUnitComplianceQuery, v: unknown[]): string {
    if (q.from || q.to || q.scope?.supplierCreditCode !== undefined) {
      const where = ['o.unit_code = $1', ...this.period(q, v), scopeSql(q.scope, 'o', v)];
      return smeInterestOneByOneSql('$2::date', where.join(' AND '));
    }
    const whereU = `u.unit_code = $1 AND ${scopeSql(q.scope, 'u', v)}`;
    const whereO = `o.unit_code = $1 AND ${scopeSql(q.scope, 'o', v)}`;
    return smeInterestTotalSql('$2::date', whereU, whereO);
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
  private countsSql(q: GetUnitComplianceQuery, values: unknown[]): string {
    const st = `obligation_status(o.started_on, o.deadline, o.fulfilled_on, o.exempted_on, o.cancelled_on, $2::date)`;
    if (q.from || q.to) {
      const where = [
        'o.unit_code = $1',
        'o.started_on <= $2::date',
        ...this.period(q, values),
        scopeSql(q.scope, 'o', values),
      ];
      return `SELECT o.rule, ${st} AS status, count(*)::int AS n FROM ${RM}.obligations o
               WHERE ${where.join(' AND ')} GROUP BY 1, 2`;
    }
    const scopeU = scopeSql(q.scope, 'u', values);
    const scopeO = scopeSql(q.scope, 'o', values);
    return `SELECT rule, status, n FROM (${summaryCountsSql(
      '$2::date',
      `u.unit_code = $1 AND ${scopeU}`,
      `o.unit_code = $1 AND ${scopeO}`,
    )}) s`;
  }
}

/** The head row of a unit (headSql). */
type UnitHead = {
  known: number;
  unit_name: string | null;
  region: string | null;
  contracts: number;
} & Record<`${'sme' | 'non'}_${'met' | 'below' | 'pending' | 'exempted'}`, number>;

/** Counts rows by rule (statuses null or zero skipped). */
function countsByRule(
  rows: ReadonlyArray<{ rule: string; status: string | null; n: number }>,
): Map<string, StatusCounts> {
  const out = new Map<string, StatusCounts>();
  for (const r of rows) {
    if (r.status === null || r.n === 0) continue;
    let c = out.get(r.rule);
    if (!c) out.set(r.rule, (c = emptyCounts()));
    c[r.status as keyof StatusCounts] += r.n;
  }
  return out;
}
