import {
  finalObligationStatus,
  obligationSettledOn,
  smeLateInterestFinal,
  type ContractAssessment,
} from '@app/domain';

const s = (v: bigint | undefined | null) => (v === undefined || v === null ? null : v.toString());
const d = (v: string | undefined | null) => v ?? null;

/** Read-model rows of one contract (JSON-ready: bigints as strings), for jsonb_populate_recordset. */
export function rowsOf(a: ContractAssessment, streamVersion: number) {
  const unit = a.purchasingUnit;
  const sup = a.supplier;
  const contract = {
    contract_id: a.contractId,
    unit_code: unit?.code ?? null,
    unit_name: unit?.name ?? null,
    region: unit?.region ?? null,
    supplier_credit_code: sup?.creditCode ?? null,
    supplier_name: sup?.name ?? null,
    supplier_size: sup?.size ?? null,
    sme: sup ? sup.sme : null,
    project_code: a.project?.code ?? null,
    project_name: a.project?.name ?? null,
    award_amount_fen: s(a.awardAmountFen),
    amount_fen: s(a.amountFen),
    prepayment_ratio: a.prepaymentRatio ?? null,
    awarded_on: d(a.awardedOn),
    signed_on: d(a.signedOn),
    announced_on: d(a.announcedOn),
    filed_on: d(a.filedOn),
    performance_completed_on: d(a.performanceCompletedOn),
    accepted_on: d(a.acceptedOn),
    terminated_on: d(a.terminatedOn),
    stage: a.stage,
    prep_started_on: a.prepayment?.startedOn ?? null,
    prep_threshold_percent: a.prepayment?.thresholdPercent ?? null,
    prep_required_fen: s(a.prepayment?.requiredFen),
    prep_met_on: a.prepayment?.metOn ?? null,
    prep_ended_on: a.prepayment?.endedOn ?? null,
    prep_exempted_on: a.prepayment?.exemptedOn ?? null,
    data_quality: a.dataQuality,
    stream_version: streamVersion,
    updated_at: new Date().toISOString(),
    payment_condition: a.smePayment?.condition ?? null,
    payment_term_days: a.smePayment?.agreedTermDays ?? null,
    late_interest_rate: a.smePayment?.annualRate ?? null,
  };
  // the SME late interest once final (kept in the per-unit summary; SPEC §7)
  const smeFinal = smeLateInterestFinal(a);
  const obligations = a.obligations.map((o) => ({
    contract_id: a.contractId,
    key: o.key,
    rule: o.rule,
    unit_code: unit?.code ?? null,
    region: unit?.region ?? null,
    supplier_credit_code: sup?.creditCode ?? null,
    sme: sup ? sup.sme : null,
    started_on: o.startedOn,
    deadline: o.deadline,
    fulfilled_on: o.fulfilledOn,
    exempted_on: o.exemptedOn,
    cancelled_on: o.cancelledOn,
    provisional: o.provisional,
    working_day_rule: o.workingDayRule,
    invoice_no: o.invoiceNo ?? null,
    settled_on: obligationSettledOn(o),
    final_status: finalObligationStatus(o),
    policy: o.policy,
    source: o.source,
    // 'infinity': not final yet (NULL is left to rows projected before the column existed)
    interest_final_on: o.rule === 'smePayment' ? (smeFinal?.on ?? 'infinity') : null,
    interest_final_fen: o.rule === 'smePayment' ? s(smeFinal?.fen) : null,
  }));
  const invoices = a.invoices.map((i) => ({
    contract_id: a.contractId,
    invoice_no: i.invoiceNo,
    supplier_credit_code: sup?.creditCode ?? null,
    stage: i.stage,
    amount_fen: s(i.amountFen),
    received_on: i.receivedOn,
    condition_on: i.conditionOn,
    started_on: i.startedOn,
    due_on: i.dueOn,
    provisional: i.provisional,
    paid_fen: s(i.paidFen),
    paid_on: i.paidOn,
  }));
  const payments = a.payments.map((p) => ({
    contract_id: a.contractId,
    payment_id: p.paymentId,
    supplier_credit_code: sup?.creditCode ?? null,
    kind: p.kind,
    amount_fen: s(p.amountFen),
    paid_on: p.date,
    invoice_no: p.invoiceNo ?? null,
    unallocated_fen: s(p.unallocatedFen),
  }));
  const allocations = a.invoices.flatMap((i) =>
    i.allocations.map((al) => ({
      contract_id: a.contractId,
      invoice_no: i.invoiceNo,
      payment_id: al.paymentId,
      paid_on: al.date,
      amount_fen: s(al.amountFen),
    })),
  );
  return { contract, obligations, invoices, payments, allocations };
}
