import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import {
  fenToYuan,
  obligationStatusAsOf,
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
import { scopeSql } from './scope';
import { obligationStatusColumns } from './status-sql';
import { GetSupplierPaymentsQuery, type SupplierPaymentsView } from './supplier-payments.query';

const RM = `"${LIVE_SCHEMA}"`;
const yuan = (fen: string | null) => fenToYuan(BigInt(fen ?? '0'));

/**
 * `GET /v1/suppliers/{creditCode}/payments?asOf=`. Invoices, due dates and paid amounts come
 * from the read model (dates, filtered in SQL); which contracts were the supplier's on `asOf`,
 * their units and prepayment targets from their histories up to `asOf` (`contractsAsOf`): a
 * contract counts from the award that names the supplier.
 */
@QueryHandler(GetSupplierPaymentsQuery)
export class GetSupplierPaymentsHandler implements IQueryHandler<GetSupplierPaymentsQuery> {
  constructor(
    private readonly db: ReadPool,
    private readonly store: PgEventStore,
    private readonly calendar: CalendarService,
    private readonly policies: PolicyService,
  ) {}

  async execute(q: GetSupplierPaymentsQuery): Promise<SupplierPaymentsView> {
    const cv: unknown[] = [q.creditCode];
    const scope = scopeSql(q.scope, 'c', cv);
    const contracts = await this.db.query<{ contract_id: string; stream_version: number }>(
      `SELECT c.contract_id, c.stream_version FROM ${RM}.contracts c
        WHERE c.supplier_credit_code = $1 AND ${scope}
        ORDER BY c.awarded_on DESC NULLS LAST, c.contract_id`,
      cv,
    );
    if (contracts.rows.length === 0)
      throw new NotFoundError(`supplier ${q.creditCode} not found`, 'SUPPLIER.NOT_FOUND');
    const assessed = await contractsAsOf(
      this.db.pool,
      this.store,
      new Map(contracts.rows.map((r) => [r.contract_id, r.stream_version])),
      q.asOf,
      this.calendar.current,
      await this.policies.applied(this.db.pool),
    );
    // the supplier's contracts on asOf (named by an award by then), newest award first: the
    // name shown is the newest award's
    const mine = contracts.rows
      .map((r) => assessed.get(r.contract_id)!)
      .filter((a) => a.supplier?.creditCode === q.creditCode);
    const byId = new Map(mine.map((a) => [a.contractId, a]));
    const ids = mine.map((a) => a.contractId);
    const st = obligationStatusColumns('o', '$2::date');
    const invoices = await this.db.query(
      `SELECT i.*, o.deadline, o.started_on AS o_started, o.fulfilled_on, o.working_day_rule, o.policy, o.source,
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
    const cal = this.calendar.current;
    const smePayments = mine.flatMap((a) => {
      if (!a.smePayment) return [];
      const t = a.smePayment;
      const o = a.obligations.find((x) => x.rule === 'smePayment');
      const st = o ? obligationStatusAsOf(o, q.asOf, cal) : null;
      const paid = paidByFen(t.owedFen, a.payments, q.asOf);
      return [
        {
          contractId: a.contractId,
          unitCode: a.purchasingUnit?.code ?? null,
          unitName: a.purchasingUnit?.name ?? null,
          startedOn: st ? o!.startedOn : null,
          dueOn: st ? o!.deadline : null,
          status: st ? st.status : 'awaiting-condition',
          delayDays: st ? st.delayDays : 0,
          owed: fenToYuan(t.owedFen),
          paid: fenToYuan(paid),
          outstanding: fenToYuan(t.owedFen - paid),
          lateInterest: fenToYuan(smeLateInterestAsOf(a, q.asOf) ?? 0n),
          provisional: st ? o!.provisional : false,
          policy: o?.policy ?? null,
          source: o?.source ?? null,
        },
      ];
    });
    const lateInterestFen = mine.reduce(
      (sum, a) => sum + (smeLateInterestAsOf(a, q.asOf) ?? 0n),
      0n,
    );
    return {
      creditCode: q.creditCode,
      supplierName: mine[0]?.supplier?.name ?? null,
      asOf: q.asOf,
      invoices: invoices.rows.map((r) => {
        const unit = byId.get(r.contract_id)!.purchasingUnit;
        const running = r.o_started !== null && r.o_started <= q.asOf;
        return {
          contractId: r.contract_id,
          unitCode: unit?.code ?? null,
          unitName: unit?.name ?? null,
          invoiceNo: r.invoice_no,
          stage: r.stage,
          amount: yuan(r.amount_fen),
          receivedOn: r.received_on,
          startedOn: running ? r.o_started : null,
          dueOn: running ? r.deadline : null,
          paid: yuan(r.paid_asof),
          outstanding: fenToYuan(BigInt(r.amount_fen) - BigInt(r.paid_asof)),
          paidOn: r.paid_on !== null && r.paid_on <= q.asOf ? r.paid_on : null,
          // before the payment condition is met the invoice has no clock yet; with the
          // condition met and no payment rule in force (SPEC §6) it is not monitored
          status: running
            ? r.status
            : r.condition_on !== null && r.condition_on <= q.asOf
              ? 'not-monitored'
              : 'awaiting-condition',
          delayDays: running ? r.delay_days : 0,
          delayWorkingDays: running ? r.delay_working_days : 0,
          provisional: r.provisional,
          policy: r.policy,
          source: r.source,
        };
      }),
      prepayments: mine.flatMap((a) => {
        const p = a.prepayment && prepaymentStatusAsOf(a.prepayment, q.asOf);
        if (!a.prepayment || !p) return [];
        return [
          {
            contractId: a.contractId,
            contractAmount: fenToYuan(a.prepayment.contractAmountFen),
            threshold: p.threshold,
            entitled: fenToYuan(a.prepayment.requiredFen),
            received: fenToYuan(p.prepaidFen),
            ratio: p.ratio,
            status: p.status,
            policy: a.prepayment.policy,
            source: a.prepayment.source,
          },
        ];
      }),
      smePayments,
      lateInterest: fenToYuan(lateInterestFen),
    };
  }
}
