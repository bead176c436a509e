import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { fenToYuan, ratioDown } from '@app/domain';
import { NotFoundError, ReadPool } from '@app/platform';
import { LIVE_SCHEMA } from '../read-model-ddl';
import { scopeSql } from './scope';
import { obligationStatusColumns, prepaymentStatusSql } from './status-sql';
import { GetSupplierPaymentsQuery, type SupplierPaymentsView } from './supplier-payments.query';

const RM = `"${LIVE_SCHEMA}"`;
const yuan = (fen: string | null) => fenToYuan(BigInt(fen ?? '0'));

@QueryHandler(GetSupplierPaymentsQuery)
export class GetSupplierPaymentsHandler implements IQueryHandler<GetSupplierPaymentsQuery> {
  constructor(private readonly db: ReadPool) {}

  async execute(q: GetSupplierPaymentsQuery): Promise<SupplierPaymentsView> {
    const cv: unknown[] = [q.creditCode, q.asOf];
    const scope = scopeSql(q.scope, 'c', cv);
    const contracts = await this.db.pool.query(
      `SELECT c.contract_id, c.supplier_name, c.unit_code, c.unit_name, c.amount_fen::text, c.prep_threshold_percent,
              c.prep_required_fen::text, ${prepaymentStatusSql('c', '$2::date')} AS prep_status,
              (SELECT coalesce(sum(p.amount_fen), 0) FROM ${RM}.payments p
                WHERE p.contract_id = c.contract_id AND p.kind = 'prepayment' AND p.paid_on <= $2::date)::text AS prepaid_fen
         FROM ${RM}.contracts c WHERE c.supplier_credit_code = $1 AND ${scope}
        ORDER BY c.awarded_on DESC NULLS LAST, c.contract_id`,
      cv,
    );
    if (contracts.rows.length === 0)
      throw new NotFoundError(`supplier ${q.creditCode} not found`, 'SUPPLIER.NOT_FOUND');
    const ids = contracts.rows.map((r) => r.contract_id as string);
    const byId = new Map(contracts.rows.map((r) => [r.contract_id as string, r]));
    const st = obligationStatusColumns('o', '$2::date');
    const invoices = await this.db.pool.query(
      `SELECT i.*, o.deadline, o.started_on AS o_started, o.fulfilled_on, o.working_day_rule,
              ${st.columns},
              (SELECT coalesce(sum(a.amount_fen), 0) FROM ${RM}.allocations a
                WHERE a.contract_id = i.contract_id AND a.invoice_no = i.invoice_no AND a.paid_on <= $2::date)::text AS paid_asof
         FROM ${RM}.invoices i
         LEFT JOIN ${RM}.obligations o ON o.contract_id = i.contract_id AND o.key = 'payment:' || i.invoice_no
         ${st.lateral.replace('CROSS JOIN LATERAL', 'LEFT JOIN LATERAL').replace(/\) st$/, ') st ON TRUE')}
        WHERE i.contract_id = ANY($1::text[]) AND i.received_on <= $2::date
        ORDER BY i.received_on DESC, i.contract_id, i.invoice_no`,
      [ids, q.asOf],
    );
    return {
      creditCode: q.creditCode,
      supplierName: contracts.rows[0].supplier_name,
      asOf: q.asOf,
      invoices: invoices.rows.map((r) => {
        const c = byId.get(r.contract_id)!;
        const running = r.o_started !== null && r.o_started <= q.asOf;
        return {
          contractId: r.contract_id,
          unitCode: c.unit_code,
          unitName: c.unit_name,
          invoiceNo: r.invoice_no,
          stage: r.stage,
          amount: yuan(r.amount_fen),
          receivedOn: r.received_on,
          startedOn: running ? r.o_started : null,
          dueOn: running ? r.deadline : null,
          paid: yuan(r.paid_asof),
          outstanding: fenToYuan(BigInt(r.amount_fen) - BigInt(r.paid_asof)),
          paidOn: r.paid_on !== null && r.paid_on <= q.asOf ? r.paid_on : null,
          // before the payment condition is met the invoice has no clock yet
          status: running ? r.status : 'awaiting-condition',
          delayDays: running ? r.delay_days : 0,
          delayWorkingDays: running ? r.delay_working_days : 0,
          provisional: r.provisional,
        };
      }),
      prepayments: contracts.rows
        .filter((c) => c.prep_status)
        .map((c) => ({
          contractId: c.contract_id,
          contractAmount: yuan(c.amount_fen),
          threshold: c.prep_threshold_percent === 50 ? '0.50' : '0.30',
          entitled: yuan(c.prep_required_fen),
          received: yuan(c.prepaid_fen),
          ratio: ratioDown(BigInt(c.prepaid_fen), BigInt(c.amount_fen)),
          status: c.prep_status,
        })),
    };
  }
}
