import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * SME late interest kept final (SPEC §7): an SME payment obligation's interest stops changing
 * once it is paid in full or cancelled (`smeLateInterestFinal`); the projector writes that day
 * and amount on the obligation (`interest_final_on`, `interest_final_fen`) and their sum per
 * unit, region, rule and final status in `unit_rule_counts.interest_fen`, so that the overview
 * and a unit's compliance compute one by one only the obligations not final on T (the partial
 * indexes `obligations_sme_interest_idx`, `obligations_unit_sme_interest_idx`). The same as
 * `readModelDdl` creates.
 *
 * Rows projected before this migration keep NULL (and add 0 to the summary): the queries
 * compute them one by one, with the same figures, until a rebuild or the contract's next
 * projection fills them.
 *
 * `obligations_sme_violation_idx`: SME payment obligations late or overdue, by deadline — the
 * candidates of the annual disclosure (overdue on 31 December), which read every SME
 * obligation of the store before.
 */
export class SmeInterestSummary1732600000152 implements MigrationInterface {
  name = 'SmeInterestSummary1732600000152';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "rm".obligations
      ADD COLUMN IF NOT EXISTS interest_final_on date,
      ADD COLUMN IF NOT EXISTS interest_final_fen bigint`);
    await q.query(`ALTER TABLE "rm".unit_rule_counts
      ADD COLUMN IF NOT EXISTS interest_fen bigint NOT NULL DEFAULT 0`);
    await q.query(`CREATE INDEX IF NOT EXISTS obligations_sme_interest_idx
      ON "rm".obligations (interest_final_on) WHERE rule = 'smePayment'`);
    await q.query(`CREATE INDEX IF NOT EXISTS obligations_unit_sme_interest_idx
      ON "rm".obligations (unit_code, interest_final_on) WHERE rule = 'smePayment'`);
    await q.query(`CREATE INDEX IF NOT EXISTS obligations_sme_violation_idx ON "rm".obligations (deadline)
       WHERE rule = 'smePayment' AND (fulfilled_on IS NULL OR fulfilled_on > deadline)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `DROP INDEX IF EXISTS "rm".obligations_sme_interest_idx, "rm".obligations_unit_sme_interest_idx,
        "rm".obligations_sme_violation_idx`,
    );
    await q.query(`ALTER TABLE "rm".unit_rule_counts DROP COLUMN IF EXISTS interest_fen`);
    await q.query(`ALTER TABLE "rm".obligations
      DROP COLUMN IF EXISTS interest_final_on, DROP COLUMN IF EXISTS interest_final_fen`);
  }
}
