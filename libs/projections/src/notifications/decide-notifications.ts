import type { Sql } from '@app/event-store';
import { obligationStatusColumns } from '../queries/status-sql';

/** When and for whom a decision is taken. */
export interface DecisionContext {
  /** the instant of the decision (the service's Clock), epoch ms */
  nowMs: number;
  /** today in Asia/Shanghai at nowMs */
  today: string;
  /** links are `${publicUrl}/contracts/{id}` */
  publicUrl: string;
}

/** Which obligations to decide for. */
export type DecisionScope =
  /** the projector: the contracts it has just recomputed */
  | { contractIds: string[] }
  /** the sweep: open obligations whose deadline is in [from, to] */
  | { openDeadlineFrom: string; openDeadlineTo: string };

/** Whether any subscription could receive anything (the projector skips the work otherwise). */
export async function anySubscription(c: Sql): Promise<boolean> {
  const { rows } = await c.query(
    `SELECT 1 FROM webhook_subscriptions WHERE state <> 'deleted' LIMIT 1`,
  );
  return rows.length > 0;
}

/**
 * Decides the notifications of the obligations in `scope` as of `ctx.today`, for every
 * subscription that is not deleted and whose filters match, and inserts them into the outbox
 * (`webhook_deliveries`) in the caller's transaction. A (subscription, obligation, kind)
 * already there is left alone: each is decided once, whatever is replayed or swept again.
 *
 * - `obligation.due_soon`: `pending` as of today with at most `dueSoonWorkingDays` working
 *   days left (the business_days index: the official calendar);
 * - `obligation.overdue`: `overdue` as of today, and it became so on or after the
 *   subscription's `since` day (deadline ≥ since − 1): a new subscription is not flooded with
 *   the past;
 * - `obligation.fulfilled_late`: `late` as of today, fulfilled on or after `since`.
 *
 * The body (the bytes signed and sent on every attempt) is built here, from the obligation
 * as decided. Returns the number of deliveries inserted.
 */
export async function decideNotifications(
  c: Sql,
  schema: string,
  ctx: DecisionContext,
  scope: DecisionScope,
): Promise<number> {
  const rm = `"${schema}"`;
  const values: unknown[] = [ctx.today, new Date(ctx.nowMs).toISOString(), ctx.publicUrl];
  let where: string;
  if ('contractIds' in scope) {
    if (scope.contractIds.length === 0) return 0;
    where = `o.contract_id = ANY($${values.push(scope.contractIds)}::text[])
      AND o.exempted_on IS NULL AND (o.fulfilled_on IS NULL OR o.fulfilled_on > o.deadline)`;
  } else {
    where = `o.fulfilled_on IS NULL AND o.exempted_on IS NULL AND o.cancelled_on IS NULL
      AND o.deadline >= $${values.push(scope.openDeadlineFrom)}::date
      AND o.deadline <= $${values.push(scope.openDeadlineTo)}::date`;
  }
  const st = obligationStatusColumns('o', '$1::date');
  const amount = (fen: string) =>
    `CASE WHEN ${fen} IS NULL THEN NULL ELSE (${fen} / 100)::text || '.' || lpad((${fen} % 100)::text, 2, '0') END`;
  const { rowCount } = await c.query(
    `WITH cand AS (
       SELECT o.contract_id, o.key, o.rule, o.started_on, o.deadline, o.fulfilled_on, o.provisional,
              o.policy, o.source, o.unit_code, o.region, o.supplier_credit_code,
              c.unit_name, c.supplier_name, c.sme, c.project_code, c.project_name, c.amount_fen,
              ${st.columns},
              (SELECT working_index FROM business_days WHERE day = o.deadline)
                - (SELECT working_index FROM business_days WHERE day = $1::date) AS working_days_left
         FROM ${rm}.obligations o ${st.lateral}
         JOIN ${rm}.contracts c ON c.contract_id = o.contract_id
        WHERE ${where} AND st.status IN ('pending', 'overdue', 'late')
     ), matched AS (
       SELECT gen_random_uuid() AS id, s.id AS subscription_id, k.kind, cand.*
         FROM cand
         JOIN webhook_subscriptions s
           ON s.state <> 'deleted'
          AND (s.unit_code IS NULL OR s.unit_code = cand.unit_code)
          AND (s.region IS NULL OR cand.region LIKE s.region || '%')
          AND (s.rule IS NULL OR s.rule = cand.rule)
        CROSS JOIN LATERAL unnest(s.events) AS k(kind)
        WHERE (k.kind = 'obligation.due_soon' AND cand.status = 'pending'
               AND cand.working_days_left <= s.due_soon_working_days)
           OR (k.kind = 'obligation.overdue' AND cand.status = 'overdue' AND cand.deadline >= s.since - 1)
           OR (k.kind = 'obligation.fulfilled_late' AND cand.status = 'late' AND cand.fulfilled_on >= s.since)
     )
     INSERT INTO webhook_deliveries
       (id, subscription_id, contract_id, obligation_key, kind, body, decided_at, decided_on, next_attempt_at)
     SELECT m.id, m.subscription_id, m.contract_id, m.key, m.kind,
            json_build_object(
              'deliveryId', m.id,
              'subscriptionId', m.subscription_id,
              'kind', m.kind,
              'decidedAt', $2::text,
              'decidedOn', $1::date,
              'obligation', json_build_object(
                'rule', m.rule, 'key', m.key, 'startedOn', m.started_on, 'deadline', m.deadline,
                'fulfilledOn', m.fulfilled_on, 'status', m.status,
                'daysLeft', m.days_left,
                'workingDaysLeft', CASE WHEN m.status = 'pending' THEN m.working_days_left END,
                'delayDays', m.delay_days, 'delayWorkingDays', m.delay_working_days,
                'provisional', m.provisional, 'policy', m.policy, 'source', m.source),
              'contract', json_build_object(
                'contractId', m.contract_id, 'projectCode', m.project_code,
                'projectName', m.project_name, 'amount', ${amount('m.amount_fen')}),
              'unit', CASE WHEN m.unit_code IS NULL THEN NULL ELSE
                json_build_object('code', m.unit_code, 'name', m.unit_name, 'region', m.region) END,
              'supplier', CASE WHEN m.supplier_credit_code IS NULL THEN NULL ELSE
                json_build_object('creditCode', m.supplier_credit_code, 'name', m.supplier_name, 'sme', m.sme) END,
              'link', $3::text || '/contracts/' || replace(m.contract_id, '/', '%2F')
            )::text,
            $2::timestamptz, $1::date, $2::timestamptz
       FROM matched m
     ON CONFLICT (subscription_id, contract_id, obligation_key, kind) DO NOTHING`,
    values,
  );
  return rowCount ?? 0;
}
