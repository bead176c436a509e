import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import {
  fenToYuan,
  OBLIGATION_RULE_IDS,
  paidByFen,
  prepaymentStatusAsOf,
  smeLateInterestAsOf,
} from '@app/domain';
import { PgEventStore } from '@app/event-store';
import { NotFoundError, ReadPool } from '@app/platform';
import { CalendarService } from '../calendar.service';
import { PolicyService } from '../policy.service';
import { LIVE_SCHEMA } from '../read-model-ddl';
import { contractsAsOf } from './contracts-as-of';
import { GetContractQuery, type ContractView, type ObligationView } from './get-contract.query';
import { scopeSql } from './scope';
import { obligationStatusColumns, type ObligationStatusRow } from './status-sql';

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
    policy: r.policy,
    source: r.source,
  };
}

/**
 * `GET /v1/contracts/{id}?asOf=`. The obligations come from the read model (their dates give
 * the status on any day, in SQL); the rest of the answer — stage, parties, amounts, prepayment
 * target, data-quality flags — from the contract's history up to `asOf` (`contractsAsOf`):
 * the read model holds only its final state.
 */
@QueryHandler(GetContractQuery)
export class GetContractHandler implements IQueryHandler<GetContractQuery> {
  constructor(
    private readonly db: ReadPool,
    private readonly store: PgEventStore,
    private readonly calendar: CalendarService,
    private readonly policies: PolicyService,
  ) {}

  async execute(q: GetContractQuery): Promise<ContractView> {
    const params: unknown[] = [q.contractId];
    const scope = scopeSql(q.scope, 'c', params);
    const { rows } = await this.db.query<{ stream_version: number }>(
      `SELECT c.stream_version FROM ${RM}.contracts c WHERE c.contract_id = $1 AND ${scope}`,
      params,
    );
    if (!rows[0])
      throw new NotFoundError(`contract ${q.contractId} not found`, 'CONTRACT.NOT_FOUND');
    const st = obligationStatusColumns('o', '$2::date');
    const [assessed, obligations] = await Promise.all([
      contractsAsOf(
        this.db.pool,
        this.store,
        new Map([[q.contractId, rows[0].stream_version]]),
        q.asOf,
        this.calendar.current,
        await this.policies.applied(this.db.pool),
      ),
      this.db.query<ObligationStatusRow>(
        `SELECT o.*, ${st.columns} FROM ${RM}.obligations o ${st.lateral}
          WHERE o.contract_id = $1 AND o.started_on <= $2::date
          ORDER BY o.started_on, array_position($3::text[], o.rule), o.key`,
        [q.contractId, q.asOf, OBLIGATION_RULE_IDS],
      ),
    ]);
    const a = assessed.get(q.contractId)!;
    let prepayment: ContractView['prepayment'] = null;
    const p = a.prepayment && prepaymentStatusAsOf(a.prepayment, q.asOf);
    if (a.prepayment && p) {
      prepayment = {
        status: p.status,
        threshold: p.threshold,
        ratio: p.ratio,
        prepaid: fenToYuan(p.prepaidFen),
        required: fenToYuan(a.prepayment.requiredFen),
        contractAmount: fenToYuan(a.prepayment.contractAmountFen),
        agreedRatio: a.prepaymentRatio ?? null,
        policy: a.prepayment.policy,
        source: a.prepayment.source,
      };
    }
    const unit = a.purchasingUnit;
    const sup = a.supplier;
    const interestFen = smeLateInterestAsOf(a, q.asOf);
    const interest = interestFen === null ? null : fenToYuan(interestFen);
    let smePayment: ContractView['smePayment'] = null;
    if (a.smePayment) {
      const t = a.smePayment;
      const paid = paidByFen(t.owedFen, a.payments, q.asOf);
      smePayment = {
        paymentCondition: t.condition,
        agreedTermDays: t.agreedTermDays,
        termDays: t.termDays,
        lateInterestRate: t.annualRate,
        owed: fenToYuan(t.owedFen),
        paid: fenToYuan(paid),
        outstanding: fenToYuan(t.owedFen - paid),
        lateInterest: interest ?? '0.00',
      };
    }
    return {
      contractId: q.contractId,
      asOf: q.asOf,
      stage: a.stage,
      purchasingUnit: unit
        ? { code: unit.code, name: unit.name, region: unit.region ?? null }
        : null,
      supplier: sup
        ? { creditCode: sup.creditCode, name: sup.name, size: sup.size, sme: sup.sme }
        : null,
      project: a.project ? { code: a.project.code, name: a.project.name ?? null } : null,
      amount: a.amountFen === undefined ? null : fenToYuan(a.amountFen),
      obligations: obligations.rows.map((r) => {
        const v = obligationView(r, q.asOf);
        return r.rule === 'smePayment' && interest !== null ? { ...v, lateInterest: interest } : v;
      }),
      prepayment,
      smePayment,
      lateInterest: interest ?? '0.00',
      dataQuality: a.dataQuality.map((f) => ({
        code: f.code,
        message: f.message,
        ...(f.eventId !== undefined && { eventId: f.eventId }),
      })),
    };
  }
}
