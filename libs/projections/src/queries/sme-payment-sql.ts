import { RM } from './unit-counts';

/**
 * SME late interest (SPEC §7) in SQL, exactly as `lateInterestFen` in the domain computes it
 * for one contract: the payments of the contract, in date order, each counted up to what is
 * still owed; each counted fen accrues a day for every day after the deadline up to its
 * payment day, an unpaid one up to T; a cancelled obligation accrues nothing after its
 * cancellation day; the total of fen × days times the daily rate (agreed annual / 360, else
 * 5/10,000), rounded half up once — in integers: div(2N + D, 2D).
 *
 * Returns a `WITH` list defining `sme_ob` (one row per SME obligation matching `where`, with
 * `interest_fen`, `paid_fen` and `owed_fen` as of `t`), for the caller's SELECT. `where` is
 * on the alias `o` (rm.obligations) and `c` (rm.contracts).
 */
export function smeObligationsSql(
  t: string,
  where: string,
  /**
   * `perObligation`: each obligation's contract and payments read by their primary keys
   * (nested loops), for a small set such as one unit's. Otherwise the planner joins as it
   * likes (hash joins over every payment for a large set: the overview, the disclosure).
   * Both give the same figures; one unit's large set took 172 → 48 ms this way.
   */
  opts: { perObligation?: boolean } = {},
): string {
  const endOn = `CASE WHEN o.cancelled_on IS NOT NULL AND o.cancelled_on < ${t} THEN o.cancelled_on ELSE ${t} END AS end_on`;
  const obligationColumns = `o.contract_id, o.unit_code, o.region, o.started_on, o.deadline, o.fulfilled_on,
             o.exempted_on, o.cancelled_on, c.unit_name, c.amount_fen AS owed_fen,
             c.late_interest_rate`;
  // the payments of the contract in date order, each counted up to what is still owed
  const counted = (partition: string) => `greatest(0, least(p.amount_fen,
               b.owed_fen - coalesce(sum(p.amount_fen) OVER (${partition}
                 ORDER BY p.paid_on, p.payment_id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0))) AS counted`;
  let ctes: string;
  let paid: string;
  if (opts.perObligation) {
    // OFFSET 0 keeps the contract look-up a subquery (not pulled up into a hash join)
    ctes = `sme_base AS (
      SELECT ${obligationColumns}, ${endOn}
        FROM ${RM}.obligations o
       CROSS JOIN LATERAL (SELECT c.unit_name, c.amount_fen, c.late_interest_rate FROM ${RM}.contracts c
                            WHERE c.contract_id = o.contract_id OFFSET 0) c
       WHERE o.rule = 'smePayment' AND o.started_on <= ${t} AND ${where}),`;
    paid = `LEFT JOIN LATERAL (
          SELECT sum(q.counted) AS paid_fen,
                 sum(q.counted * greatest(0, least(q.paid_on, b.end_on) - b.deadline)) AS paid_fen_days
            FROM (SELECT p.paid_on, ${counted('')}
                    FROM ${RM}.payments p
                   WHERE p.contract_id = b.contract_id AND p.paid_on <= ${t} AND p.amount_fen > 0) q) s ON true`;
  } else {
    ctes = `sme_base AS (
      SELECT ${obligationColumns}, ${endOn}
        FROM ${RM}.obligations o JOIN ${RM}.contracts c ON c.contract_id = o.contract_id
       WHERE o.rule = 'smePayment' AND o.started_on <= ${t} AND ${where}),
    sme_paid AS (
      SELECT p.contract_id, p.paid_on, ${counted('PARTITION BY p.contract_id')},
             b.deadline, b.end_on
        FROM ${RM}.payments p JOIN sme_base b ON b.contract_id = p.contract_id
       WHERE p.paid_on <= ${t} AND p.amount_fen > 0),
    sme_sum AS (
      SELECT contract_id, sum(counted) AS paid_fen,
             sum(counted * greatest(0, least(paid_on, end_on) - deadline)) AS paid_fen_days
        FROM sme_paid GROUP BY contract_id),`;
    paid = `LEFT JOIN sme_sum s ON s.contract_id = b.contract_id`;
  }
  return `${ctes}
    sme_ob AS (
      SELECT b.*, coalesce(s.paid_fen, 0)::bigint AS paid_fen,
             CASE WHEN b.late_interest_rate IS NULL
                  THEN div(2 * x.fen_days * 5 + 10000, 20000)
                  ELSE div(2 * x.fen_days * (b.late_interest_rate::numeric * 100000000) + 36000000000,
                           72000000000)
             END::bigint AS interest_fen
        FROM sme_base b
        ${paid}
        CROSS JOIN LATERAL (SELECT coalesce(s.paid_fen_days, 0)
               + greatest(b.owed_fen - coalesce(s.paid_fen, 0), 0) * greatest(0, b.end_on - b.deadline) AS fen_days) x)`;
}

/**
 * The SME late interest as of `t` (SPEC §7) of the obligations in view, in fen, as one scalar
 * SQL expression: what the per-unit summary keeps final (`unit_rule_counts.interest_fen` of
 * the units matching `whereU`, alias `u`), less the final interest of the obligations final
 * only after `t` (for today, none), plus the interest of those not final on `t`, started by
 * then, computed one by one as of `t`: `interest_final_on` after `t` ('infinity' while not
 * final), or NULL (projected before the column existed). `whereO` is on the alias `o`
 * (rm.obligations) and must select the same obligations as `whereU` selects summary rows
 * (units, regions). The same total as summing `smeObligationsSql` over every obligation in
 * view, without reading the final ones. Each part is a range of the partial indexes on
 * `interest_final_on` (overall, per unit); the NULL rows have their own part, since the
 * column's statistics count the NULL of every other rule's rows.
 */
export function smeInterestTotalSql(t: string, whereU: string, whereO: string): string {
  const inView = `o.unit_code IS NOT NULL AND ${whereO}`;
  const oneByOne = (w: string) => smeInterestOneByOneSql(t, `${w} AND ${inView}`);
  return `(
    (SELECT coalesce(sum(u.interest_fen), 0) FROM ${RM}.unit_rule_counts u
      WHERE u.rule = 'smePayment' AND ${whereU})
    - (SELECT coalesce(sum(o.interest_final_fen), 0) FROM ${RM}.obligations o
        WHERE o.rule = 'smePayment' AND o.interest_final_on > ${t}
          AND o.interest_final_on < 'infinity'::date AND ${inView})
    + ${oneByOne(`o.interest_final_on > ${t}`)}
    + ${oneByOne('o.interest_final_on IS NULL')})`;
}

/**
 * The SME late interest as of `t` of the obligations matching `where` (aliases `o`, `c` as in
 * `smeObligationsSql`), each computed one by one (their contracts and payments read by key),
 * in fen, as one scalar SQL expression.
 */
export function smeInterestOneByOneSql(t: string, where: string): string {
  return `(WITH ${smeObligationsSql(t, where, { perObligation: true })}
       SELECT coalesce(sum(interest_fen), 0) FROM sme_ob)`;
}
