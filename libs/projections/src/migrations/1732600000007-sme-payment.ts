import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * SME payment (SPEC §7): `rm.contracts` keeps the payment terms agreed at signing — what starts
 * the clock, the agreed term, the agreed annual late-interest rate — so that late interest as
 * of any day can be computed from the read models (with `rm.payments` and the `smePayment`
 * obligation). The obligations themselves are rows of `rm.obligations` like any rule's. The
 * national layer gained the rule, so its fingerprint changed: the next policy apply recomputes
 * every stored contract (PolicyService), which fills the new columns and obligations.
 *
 * `obligations_rule_unit_deadline_idx`: a unit's obligations of one rule by deadline (the SME
 * interest of a unit, the disclosure report, payment performance).
 */
export class SmePayment1732600000007 implements MigrationInterface {
  name = 'SmePayment1732600000007';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "rm".contracts
      ADD COLUMN payment_condition text,
      ADD COLUMN payment_term_days integer,
      ADD COLUMN late_interest_rate text`);
    await q.query(
      `CREATE INDEX obligations_rule_unit_deadline_idx ON "rm".obligations (rule, unit_code, deadline)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "rm".obligations_rule_unit_deadline_idx`);
    await q.query(`ALTER TABLE "rm".contracts
      DROP COLUMN payment_condition, DROP COLUMN payment_term_days, DROP COLUMN late_interest_rate`);
  }
}
