import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { fenToYuan, ratioDown } from '@app/domain';
import { NotFoundError, ReadPool } from '@app/platform';
import { LIVE_SCHEMA } from '../read-model-ddl';
import { GetContractQuery, type ContractView, type ObligationView } from './get-contract.query';
import { scopeSql } from './scope';
import {
  obligationStatusColumns,
  prepaymentStatusSql,
  type ObligationStatusRow,
} from './status-sql';

const RM = `"${LIVE_SCHEMA}"`;

export function obligationView(r: ObligationStatusRow, asOf: string): ObligationView {
  return {
    rule: r.rule,
    key: r.key,
    startedOn: r.started_on,
    deadline: r.deadline,
    fulfilledOn: r.fulfilled_on !== null && r.fulfilled_on <= asOf ? r.fulfilled_on : null,
    status: r.status,
    delayDays: r.delay_days,
    delayWorkingDays: r.delay_working_days,
    daysLeft: r.days_left,
    exemptedOn: r.exempted_on !== null && r.exempted_on <= asOf ? r.exempted_on : null,
    cancelledOn: r.cancelled_on !== null && r.cancelled_on <= asOf ? r.cancelled_on : null,
    provisional: r.provisional,
  };
}

@QueryHandler(GetContractQuery)
export class GetContractHandler implements IQueryHandler<GetContractQuery> {
  constructor(private readonly db: ReadPool) {}

  async execute(q: GetContractQuery): Promise<ContractView> {
    const params: unknown[] = [q.contractId, q.asOf];
    const scope = scopeSql(q.scope, 'c', params);
    const { rows } = await this.db.pool.query(
      `SELECT c.*, ${prepaymentStatusSql('c', '$2::date')} AS prep_status,
              (SELECT coalesce(sum(p.amount_fen), 0) FROM ${RM}.payments p
                WHERE p.contract_id = c.contract_id AND p.kind = 'prepayment' AND p.paid_on <= $2::date)::text AS prepaid_fen
         FROM ${RM}.contracts c WHERE c.contract_id = $1 AND ${scope}`,
      params,
    );
    const c = rows[0];
    if (!c) throw new NotFoundError(`contract ${q.contractId} not found`, 'CONTRACT.NOT_FOUND');
    const st = obligationStatusColumns('o', '$2::date');
    const obligations = await this.db.pool.query<ObligationStatusRow>(
      `SELECT o.*, ${st.columns} FROM ${RM}.obligations o ${st.lateral}
        WHERE o.contract_id = $1 AND o.started_on <= $2::date
        ORDER BY o.started_on, array_position(ARRAY['signing','announcement','filing','acceptance','payment'], o.rule), o.key`,
      [q.contractId, q.asOf],
    );
    const signed = c.signed_on !== null && c.signed_on <= q.asOf;
    const amountFen: string | null = signed ? c.amount_fen : c.award_amount_fen;
    let prepayment: ContractView['prepayment'] = null;
    if (c.prep_status) {
      const amount = BigInt(c.amount_fen);
      const prepaid = BigInt(c.prepaid_fen);
      prepayment = {
        status: c.prep_status,
        threshold: c.prep_threshold_percent === 50 ? '0.50' : '0.30',
        ratio: ratioDown(prepaid, amount),
        prepaid: fenToYuan(prepaid),
        required: fenToYuan(BigInt(c.prep_required_fen)),
        contractAmount: fenToYuan(amount),
        agreedRatio: c.prepayment_ratio,
      };
    }
    return {
      contractId: c.contract_id,
      asOf: q.asOf,
      stage: c.stage,
      purchasingUnit: c.unit_code
        ? { code: c.unit_code, name: c.unit_name, region: c.region }
        : null,
      supplier: c.supplier_credit_code
        ? {
            creditCode: c.supplier_credit_code,
            name: c.supplier_name,
            size: c.supplier_size,
            sme: c.sme,
          }
        : null,
      project: c.project_code ? { code: c.project_code, name: c.project_name } : null,
      amount: amountFen === null ? null : fenToYuan(BigInt(amountFen)),
      obligations: obligations.rows.map((r) => obligationView(r, q.asOf)),
      prepayment,
      dataQuality: c.data_quality,
    };
  }
}
