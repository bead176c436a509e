/** An `rm.obligations` row joined with the columns of `obligationStatusColumns`. */
export interface ObligationStatusRow {
  contract_id: string;
  key: string;
  rule: string;
  unit_code: string | null;
  region: string | null;
  supplier_credit_code: string | null;
  started_on: string;
  deadline: string;
  fulfilled_on: string | null;
  exempted_on: string | null;
  cancelled_on: string | null;
  provisional: boolean;
  policy: string | null;
  source: string | null;
  status: string;
  delay_days: number;
  delay_working_days: number | null;
  days_left: number | null;
}

/**
 * Status, delay and days-left columns of an obligation row as of day `t` (a SQL expression),
 * computed by the SQL functions obligation_status / obligation_delay_end (migration
 * ReadModels1732600000001) and the business_days running working-day index.
 */
export function obligationStatusColumns(
  o: string,
  t: string,
): { lateral: string; columns: string } {
  const args = `${o}.started_on, ${o}.deadline, ${o}.fulfilled_on, ${o}.exempted_on, ${o}.cancelled_on, ${t}`;
  return {
    lateral: `CROSS JOIN LATERAL (SELECT obligation_status(${args}) AS status, obligation_delay_end(${args}) AS delay_end) st`,
    columns: `st.status,
      CASE WHEN st.delay_end IS NULL THEN 0 ELSE st.delay_end - ${o}.deadline END AS delay_days,
      CASE WHEN NOT ${o}.working_day_rule THEN NULL
           WHEN st.delay_end IS NULL THEN 0
           ELSE (SELECT working_index FROM business_days WHERE day = st.delay_end)
              - (SELECT working_index FROM business_days WHERE day = ${o}.deadline) END AS delay_working_days,
      CASE WHEN st.status = 'pending' THEN ${o}.deadline - ${t} ELSE NULL END AS days_left`,
  };
}

/** Prepayment status as of `t` for a contracts row `c` with prepaid amount expression `prepaid`. */
export function prepaymentStatusSql(c: string, t: string): string {
  return `CASE
    WHEN ${c}.prep_started_on IS NULL OR ${c}.prep_started_on > ${t} THEN NULL
    WHEN ${c}.prep_exempted_on <= ${t} THEN 'exempted'
    WHEN ${c}.prep_met_on <= ${t} THEN 'met'
    WHEN ${c}.prep_ended_on <= ${t} THEN 'below'
    ELSE 'pending' END`;
}
