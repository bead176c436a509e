import { ReadPool } from '@app/platform';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { LIVE_SCHEMA } from '../read-model-ddl';
import { ListDeadlinesQuery, type DeadlinePage, type DeadlineView } from './list-deadlines.query';
import { scopeSql } from './scope';
import { readModelVersion } from './unit-counts';
import { UnitRankingCache } from './unit-ranking-cache';

const RM = `"${LIVE_SCHEMA}"`;

/**
 * The last day whose working days after `today` are at most `within` (the running index of
 * `business_days`: official calendar, make-up working days included; never Monday–Friday).
 * A rest day after the N-th working day still counts as within (nothing more is due by it).
 */
export const UNTIL_SQL = (today: string, within: string) =>
  `(SELECT max(b.day) FROM business_days b
     WHERE b.working_index <= (SELECT working_index FROM business_days WHERE day = ${today}) + ${within})`;

interface DeadlineRow {
  contract_id: string;
  rule: string;
  key: string;
  policy: string | null;
  source: string | null;
  started_on: string;
  deadline: string;
  provisional: boolean;
  unit_code: string | null;
  unit_name: string | null;
  region: string | null;
  supplier_credit_code: string | null;
  supplier_name: string | null;
  sme: boolean | null;
  days_left: number;
  working_days_left: number;
}

/**
 * Open obligations (not fulfilled, exempted or cancelled) whose deadline is between today
 * and the N-th working day after it: a range of the partial index
 * `obligations_open_deadline_idx` (or its per-unit twin), in its order.
 */
@QueryHandler(ListDeadlinesQuery)
export class ListDeadlinesHandler implements IQueryHandler<ListDeadlinesQuery> {
  /** pages per (read-model version: summary and applied calendar, filter, page, scope) */
  private readonly cache = new UnitRankingCache<DeadlinePage>({ max: 64 });

  constructor(private readonly db: ReadPool) {}

  async execute(q: ListDeadlinesQuery): Promise<DeadlinePage> {
    const key = JSON.stringify([
      await readModelVersion(this.db.pool),
      q.filter,
      q.page,
      q.pageSize,
      q.scope?.regions ?? null,
      q.scope?.supplierCreditCode ?? null,
    ]);
    return this.cache.get(key, () => this.compute(q));
  }

  private async compute(q: ListDeadlinesQuery): Promise<DeadlinePage> {
    const f = q.filter;
    const { rows: lim } = await this.db.pool.query<{ until: string | null }>(
      `SELECT ${UNTIL_SQL('$1::date', '$2::int')}::text AS until`,
      [f.today, f.within],
    );
    // outside the calendar table (2000–2100): nothing can be listed
    const until = lim[0]?.until ?? f.today;
    const values: unknown[] = [f.today, until];
    const where = [
      'o.fulfilled_on IS NULL',
      'o.exempted_on IS NULL',
      'o.cancelled_on IS NULL',
      'o.deadline >= $1::date',
      'o.deadline <= $2::date',
      'o.started_on <= $1::date',
    ];
    if (f.unit) where.push(`o.unit_code = $${values.push(f.unit)}`);
    if (f.rule) where.push(`o.rule = $${values.push(f.rule)}`);
    if (f.region) where.push(`o.region LIKE $${values.push(`${f.region}%`)}`);
    where.push(scopeSql(q.scope, 'o', values));
    const limit = q.pageSize + 1;
    const offset = (q.page - 1) * q.pageSize;
    const { rows } = await this.db.pool.query<DeadlineRow>(
      `SELECT o.contract_id, o.rule, o.key, o.policy, o.source, o.started_on::text, o.deadline::text,
              o.provisional, o.unit_code, c.unit_name, o.region, o.supplier_credit_code,
              c.supplier_name, c.sme,
              o.deadline - $1::date AS days_left,
              (SELECT working_index FROM business_days WHERE day = o.deadline)
                - (SELECT working_index FROM business_days WHERE day = $1::date) AS working_days_left
         FROM ${RM}.obligations o
         JOIN ${RM}.contracts c ON c.contract_id = o.contract_id
        WHERE ${where.join(' AND ')}
        ORDER BY o.deadline, o.contract_id, o.key
        LIMIT ${limit} OFFSET ${offset}`,
      values,
    );
    return {
      asOf: f.today,
      within: f.within,
      until,
      page: q.page,
      pageSize: q.pageSize,
      hasMore: rows.length > q.pageSize,
      items: rows.slice(0, q.pageSize).map(deadlineView),
    };
  }
}

function deadlineView(r: DeadlineRow): DeadlineView {
  return {
    contractId: r.contract_id,
    rule: r.rule,
    key: r.key,
    policy: r.policy,
    source: r.source,
    startedOn: r.started_on,
    deadline: r.deadline,
    daysLeft: r.days_left,
    workingDaysLeft: r.working_days_left,
    unit: r.unit_code === null ? null : { code: r.unit_code, name: r.unit_name, region: r.region },
    supplier:
      r.supplier_credit_code === null
        ? null
        : { creditCode: r.supplier_credit_code, name: r.supplier_name, sme: r.sme },
    provisional: r.provisional,
  };
}
