import { ReadPool } from '@app/platform';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { LIVE_SCHEMA } from '../read-model-ddl';
import {
  ListViolationsQuery,
  type ViolationFilter,
  type ViolationPage,
  type ViolationView,
} from './list-violations.query';
import { scopeSql, type AccessScope } from './scope';
import { obligationStatusColumns, type ObligationStatusRow } from './status-sql';
import { readModelVersion } from './unit-counts';
import { UnitRankingCache } from './unit-ranking-cache';

const RM = `"${LIVE_SCHEMA}"`;

/**
 * The violation query. Rows that were ever late or overdue satisfy the partial index
 * predicate (fulfilled_on IS NULL OR fulfilled_on > deadline); walking it by deadline
 * descending from asOf finds a page without scanning the table.
 */
export function violationsSql(
  f: ViolationFilter,
  scope: AccessScope | undefined,
  after: { deadline: string; contractId: string; key: string } | null,
  limit: number,
  offset: number,
): { text: string; values: unknown[] } {
  const values: unknown[] = [f.asOf];
  const where = [
    '(o.fulfilled_on IS NULL OR o.fulfilled_on > o.deadline)',
    'o.deadline < $1::date',
    'o.started_on <= $1::date',
  ];
  if (f.unit) where.push(`o.unit_code = $${values.push(f.unit)}`);
  if (f.rule) where.push(`o.rule = $${values.push(f.rule)}`);
  if (f.from) where.push(`o.deadline >= $${values.push(f.from)}::date`);
  if (f.to) where.push(`o.deadline <= $${values.push(f.to)}::date`);
  where.push(scopeSql(scope, 'o', values));
  if (after) {
    where.push(
      `(o.deadline, o.contract_id, o.key) < ($${values.push(after.deadline)}::date, $${values.push(after.contractId)}, $${values.push(after.key)})`,
    );
  }
  const st = obligationStatusColumns('o', '$1::date');
  const statuses = f.status ? [f.status] : ['late', 'overdue'];
  const statusParam = values.push(statuses);
  return {
    text: `SELECT o.contract_id, o.rule, o.key, o.unit_code, c.unit_name, o.region, o.supplier_credit_code,
                  c.supplier_name, o.started_on, o.deadline, o.provisional, o.fulfilled_on, o.policy, o.source,
                  ${st.columns}
             FROM ${RM}.obligations o ${st.lateral}
             JOIN ${RM}.contracts c ON c.contract_id = o.contract_id
            WHERE ${where.join(' AND ')} AND st.status = ANY($${statusParam}::text[])
            ORDER BY o.deadline DESC, o.contract_id DESC, o.key DESC
            LIMIT ${limit} OFFSET ${offset}`,
    values,
  };
}

export function violationView(
  r: ObligationStatusRow & { unit_name: string | null; supplier_name: string | null },
  asOf: string,
): ViolationView {
  return {
    contractId: r.contract_id,
    rule: r.rule,
    key: r.key,
    unitCode: r.unit_code,
    unitName: r.unit_name,
    region: r.region,
    supplierCreditCode: r.supplier_credit_code,
    supplierName: r.supplier_name,
    startedOn: r.started_on,
    deadline: r.deadline,
    fulfilledOn: r.fulfilled_on !== null && r.fulfilled_on <= asOf ? r.fulfilled_on : null,
    status: r.status as ViolationView['status'],
    delayDays: r.delay_days,
    delayWorkingDays: r.delay_working_days,
    provisional: r.provisional,
    policy: r.policy,
    source: r.source,
  };
}

@QueryHandler(ListViolationsQuery)
export class ListViolationsHandler implements IQueryHandler<ListViolationsQuery> {
  /** pages per (read-model version, filter, page, scope): ~25 KB at the default 50 rows, at most ~250 KB (500) */
  private readonly cache = new UnitRankingCache<ViolationPage>({ max: 64 });

  constructor(private readonly db: ReadPool) {}

  /**
   * A page of violations, kept for the read-model version it was computed from (the summary
   * version and the applied calendar), like the unit ranking: paging back and forth and
   * repeated requests cost one read of that version until the projector writes again. The
   * caller's scope (regions, supplier) is part of the key.
   */
  async execute(q: ListViolationsQuery): Promise<ViolationPage> {
    const f = q.filter;
    const key = JSON.stringify([
      await readModelVersion(this.db.pool),
      f.asOf,
      f.unit ?? null,
      f.rule ?? null,
      f.status ?? null,
      f.from ?? null,
      f.to ?? null,
      q.page,
      q.pageSize,
      q.scope?.regions ?? null,
      q.scope?.supplierCreditCode ?? null,
    ]);
    return this.cache.get(key, () => this.page(q));
  }

  private async page(q: ListViolationsQuery): Promise<ViolationPage> {
    const sql = violationsSql(q.filter, q.scope, null, q.pageSize + 1, (q.page - 1) * q.pageSize);
    const { rows } = await this.db.pool.query(sql.text, sql.values);
    return {
      asOf: q.filter.asOf,
      page: q.page,
      pageSize: q.pageSize,
      hasMore: rows.length > q.pageSize,
      items: rows.slice(0, q.pageSize).map((r) => violationView(r, q.filter.asOf)),
    };
  }
}

/** Streams every matching violation in pages (keyset), for the CSV export. */
export async function* allViolations(
  db: ReadPool,
  filter: ViolationFilter,
  scope: AccessScope | undefined,
  chunk = 5000,
): AsyncGenerator<ViolationView[]> {
  let after: { deadline: string; contractId: string; key: string } | null = null;
  for (;;) {
    const sql = violationsSql(filter, scope, after, chunk, 0);
    const { rows } = await db.pool.query(sql.text, sql.values);
    if (rows.length === 0) return;
    yield rows.map((r) => violationView(r, filter.asOf));
    if (rows.length < chunk) return;
    const last = rows[rows.length - 1];
    after = { deadline: last.deadline, contractId: last.contract_id, key: last.key };
  }
}
