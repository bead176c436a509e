import { OBLIGATION_RULE_IDS, rateDown } from '@app/domain';
import type { Sql } from '@app/event-store';
import { LIVE_SCHEMA } from '../read-model-ddl';
import type { StatusCounts } from './units.query';

/** The read models' schema, quoted, for the unit queries. */
export const RM = `"${LIVE_SCHEMA}"`;
export const RULE_ORDER: readonly string[] = OBLIGATION_RULE_IDS;

export const emptyCounts = (): StatusCounts => ({
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
 * restrict the summary rows (alias u) and the obligations (alias o) alike. With `byRegion`,
 * also per region code (`''` for a unit without one), as the summary keeps it.
 */
export function summaryCountsSql(
  t: string,
  whereU: string,
  whereO: string,
  byRegion = false,
): string {
  const uRegion = byRegion ? ' u.region,' : '';
  const oRegion = byRegion ? ` coalesce(o.region, '') AS region,` : '';
  const groups = byRegion ? '1, 2, 3, 4' : '1, 2, 3';
  return `SELECT unit_code,${byRegion ? ' region,' : ''} rule, status, sum(n)::int AS n FROM (
      SELECT u.unit_code,${uRegion} u.rule, u.status, u.n FROM ${RM}.unit_rule_counts u
       WHERE u.n <> 0 AND ${whereU}
      UNION ALL
      SELECT o.unit_code,${oRegion} o.rule, c.status, c.n FROM ${RM}.obligations o
       CROSS JOIN LATERAL (VALUES (o.final_status, -1), (obligation_status(
         o.started_on, o.deadline, o.fulfilled_on, o.exempted_on, o.cancelled_on, ${t}), 1)) c(status, n)
       WHERE o.settled_on > ${t} AND o.unit_code IS NOT NULL AND ${whereO} AND c.status IS NOT NULL
    ) x GROUP BY ${groups} HAVING sum(n) <> 0`;
}

/**
 * What an answer computed from the read models and the calendar table depends on, as one
 * string: the summary version (`summary_state.version`, moved in the transaction of every
 * projector write, a rebuild's swap included) and the fingerprint of the calendar applied to
 * `business_days` (the working days that delays are counted in). An answer kept under this key
 * is the answer any later request would compute, until the key moves.
 */
export async function readModelVersion(db: Sql): Promise<string> {
  const { rows } = await db.query<{ v: string | null; cal: string | null }>(
    `SELECT (SELECT version FROM ${RM}.summary_state) AS v,
            (SELECT applied_fingerprint FROM calendar_state) AS cal`,
  );
  return `${rows[0]?.v ?? ''}/${rows[0]?.cal ?? ''}`;
}
