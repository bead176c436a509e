import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Per-unit obligation summaries (see `unitSummaryDdl`): brings a live schema created by
 * ReadModels1732600000001 before they existed to the current shape. Where that migration ran
 * while it still called the DDL builder (which had them by then), every statement here is a
 * no-op. The backfill uses the SQL twin of the domain's definitions (obligation_status as of
 * 'infinity' = finalObligationStatus; GREATEST ignores NULLs = obligationSettledOn).
 */
export class UnitSummaries1732600000002 implements MigrationInterface {
  name = 'UnitSummaries1732600000002';

  async up(q: QueryRunner): Promise<void> {
    const s = '"rm"';
    await q.query(`ALTER TABLE ${s}.obligations
      ADD COLUMN IF NOT EXISTS settled_on date, ADD COLUMN IF NOT EXISTS final_status text`);
    await q.query(`UPDATE ${s}.obligations
       SET settled_on = GREATEST(started_on, deadline + 1, fulfilled_on, exempted_on, cancelled_on),
           final_status = obligation_status(started_on, deadline, fulfilled_on, exempted_on, cancelled_on, 'infinity')
     WHERE settled_on IS NULL OR final_status IS NULL`);
    await q.query(`ALTER TABLE ${s}.obligations
      ALTER COLUMN settled_on SET NOT NULL, ALTER COLUMN final_status SET NOT NULL`);
    await q.query(
      `CREATE INDEX IF NOT EXISTS obligations_settled_idx ON ${s}.obligations (settled_on)`,
    );
    await q.query(`DROP INDEX IF EXISTS ${s}.obligations_unit_rule_idx`);
    await q.query(
      `CREATE INDEX IF NOT EXISTS obligations_unit_settled_idx ON ${s}.obligations (unit_code, settled_on)`,
    );
    await q.query(`CREATE TABLE IF NOT EXISTS ${s}.unit_rule_counts (
       unit_code text NOT NULL,
       region    text NOT NULL,
       rule      text NOT NULL,
       status    text NOT NULL,
       n         integer NOT NULL,
       PRIMARY KEY (unit_code, region, rule, status)
     )`);
    await q.query(`CREATE TABLE IF NOT EXISTS ${s}.summary_state (
       id      boolean PRIMARY KEY DEFAULT true CHECK (id),
       version text NOT NULL
     )`);
    await q.query(`INSERT INTO ${s}.summary_state (id, version)
      VALUES (true, pg_current_xact_id()::text) ON CONFLICT (id) DO NOTHING`);
    await q.query(`INSERT INTO ${s}.unit_rule_counts (unit_code, region, rule, status, n)
      SELECT unit_code, coalesce(region, ''), rule, final_status, count(*)
        FROM ${s}.obligations WHERE unit_code IS NOT NULL
       GROUP BY 1, 2, 3, 4
      ON CONFLICT DO NOTHING`);
  }

  async down(q: QueryRunner): Promise<void> {
    const s = '"rm"';
    await q.query(`DROP TABLE ${s}.summary_state, ${s}.unit_rule_counts`);
    await q.query(`DROP INDEX ${s}.obligations_settled_idx, ${s}.obligations_unit_settled_idx`);
    await q.query(`CREATE INDEX obligations_unit_rule_idx ON ${s}.obligations (unit_code, rule)`);
    await q.query(`ALTER TABLE ${s}.obligations DROP COLUMN settled_on, DROP COLUMN final_status`);
  }
}
