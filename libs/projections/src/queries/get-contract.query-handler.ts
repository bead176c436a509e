import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import {
  fenToYuan,
  OBLIGATION_RULE_IDS,
  paidByFen,
  prepaymentStatusAsOf,
  smeLateInterestAsOf,
} from '@app/domain';
import { streamFactsJsonSql, type StreamFactRow } from '@app/event-store';
import { NotFoundError, ReadPool } from '@app/platform';
import { CalendarService } from '../calendar.service';
import { APPLIED_FINGERPRINT_SQL, PolicyService } from '../policy.service';
import { LIVE_SCHEMA } from '../read-model-ddl';
import { assessAsOf } from './contracts-as-of';
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
 * target, data-quality flags — from the contract's history up to `asOf` (`assessAsOf`):
 * the read model holds only its final state.
 */
@QueryHandler(GetContractQuery)
export class GetContractHandler implements IQueryHandler<GetContractQuery> {
  constructor(
    private readonly db: ReadPool,
    private readonly calendar: CalendarService,
    private readonly policies: PolicyService,
  ) {}

  async execute(q: GetContractQuery): Promise<ContractView> {
    // one statement, so one snapshot and one round trip: the contract's row within the
    // caller's scope, the applied policy layers' fingerprint, the history up to the version
    // the row was computed from, and the obligations started by asOf with their status then
    const params: unknown[] = [q.contractId, q.asOf, OBLIGATION_RULE_IDS];
    const scope = scopeSql(q.scope, 'c', params);
    const st = obligationStatusColumns('o', '$2::date');
    const { rows } = await this.db.query<{
      stream_version: number;
      f: string | null;
      history: StreamFactRow[];
      obligations: ObligationStatusRow[];
    }>(
      `SELECT c.stream_version, ${APPLIED_FINGERPRINT_SQL} AS f,
              ${streamFactsJsonSql('c.contract_id', 'c.stream_version')} AS history,
              (SELECT coalesce(json_agg(x ORDER BY x.started_on, array_position($3::text[], x.rule), x.key), '[]'::json)
                 FROM (SELECT o.*, ${st.columns} FROM ${RM}.obligations o ${st.lateral}
                        WHERE o.contract_id = c.contract_id AND o.started_on <= $2::date) x) AS obligations
         FROM ${RM}.contracts c WHERE c.contract_id = $1 AND ${scope}`,
      params,
    );
    const row = rows[0];
    if (!row) throw new NotFoundError(`contract ${q.contractId} not found`, 'CONTRACT.NOT_FOUND');
    const assessed = assessAsOf(
      row.history,
      new Map([[q.contractId, row.stream_version]]),
      q.asOf,
      this.calendar.current,
      await this.policies.appliedWith(row.f, this.db.pool),
    );
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
      obligations: row.obligations.map((r) => {
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
