import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { ReadPool } from '@app/platform';
import { scopeSql } from './scope';
import { GetTrendsQuery, type TrendsView } from './trends.query';
import { emptyCounts, onTimeRate, readModelVersion, RM } from './unit-counts';
import { UnitRankingCache } from './unit-ranking-cache';
import type { StatusCounts } from './units.query';

/** The months from `from` to `to` (`YYYY-MM`, inclusive), in order. */
export function monthsBetween(from: string, to: string): string[] {
  const out: string[] = [];
  let [y, m] = from.split('-').map(Number);
  const [ty, tm] = to.split('-').map(Number);
  while (y < ty || (y === ty && m <= tm)) {
    out.push(`${y}-${String(m).padStart(2, '0')}`);
    if (++m > 12) [y, m] = [y + 1, 1];
  }
  return out;
}

/**
 * `GET /v1/trends`. The summaries count by unit, not by month, so the obligations with a
 * deadline in the months asked for are counted directly, each under its status on asOf (the
 * SQL twin of the domain's status, as everywhere). The controller caps the range at 120
 * months. Deadlines are business dates already, so the month is the date's `YYYY-MM`.
 */
@QueryHandler(GetTrendsQuery)
export class GetTrendsHandler implements IQueryHandler<GetTrendsQuery> {
  /** answers per (read-model version, asOf, months, filters, scope): at most 120 months each */
  private readonly cache = new UnitRankingCache<TrendsView>({ max: 32 });

  constructor(private readonly db: ReadPool) {}

  /** Kept for the read-model version it was computed from, like the ranking. */
  async execute(q: GetTrendsQuery): Promise<TrendsView> {
    if (q.scope?.supplierCreditCode !== undefined)
      throw new Error('trends are not available to a supplier scope');
    const f = q.filter;
    const key = JSON.stringify([
      await readModelVersion(this.db.pool),
      q.asOf,
      q.from,
      q.to,
      f.region ?? null,
      f.unit ?? null,
      f.rule ?? null,
      q.scope?.regions ?? null,
    ]);
    return this.cache.get(key, () => this.compute(q));
  }

  private async compute(q: GetTrendsQuery): Promise<TrendsView> {
    const values: unknown[] = [q.asOf, `${q.from}-01`, `${q.to}-01`];
    const where = [
      'o.deadline >= $2::date',
      `o.deadline < $3::date + interval '1 month'`,
      'o.started_on <= $1::date',
      'o.unit_code IS NOT NULL',
      scopeSql(q.scope, 'o', values),
    ];
    const f = q.filter;
    if (f.unit) where.push(`o.unit_code = $${values.push(f.unit)}`);
    if (f.rule) where.push(`o.rule = $${values.push(f.rule)}`);
    if (f.region) where.push(`o.region LIKE $${values.push(`${f.region}%`)}`);
    const { rows } = await this.db.pool.query<{
      month: string;
      status: keyof StatusCounts;
      n: number;
    }>(
      `SELECT to_char(o.deadline, 'YYYY-MM') AS month,
              obligation_status(o.started_on, o.deadline, o.fulfilled_on, o.exempted_on, o.cancelled_on, $1::date) AS status,
              count(*)::int AS n
         FROM ${RM}.obligations o WHERE ${where.join(' AND ')} GROUP BY 1, 2`,
      values,
    );
    const months = new Map(monthsBetween(q.from, q.to).map((m) => [m, emptyCounts()]));
    for (const r of rows) if (r.status !== null) months.get(r.month)![r.status] += r.n;
    return {
      asOf: q.asOf,
      from: q.from,
      to: q.to,
      region: f.region ?? null,
      unit: f.unit ?? null,
      rule: f.rule ?? null,
      months: [...months].map(([month, c]) => ({
        month,
        counts: c,
        total: Object.values(c).reduce((a, n) => a + n, 0),
        onTimeRate: onTimeRate(c),
        violations: c.late + c.overdue,
      })),
    };
  }
}
