import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Brings every database to the schema of the current DDL builder, whichever earlier text of a
 * migration it ran. Three migrations changed after they were first released:
 *
 * - ReadModels1732600000001 called the DDL builder, so what it created depended on when it ran;
 *   it is frozen now as first released (commit ecb956e), whose violation indexes were
 *   `(deadline DESC, …)` — an order no scan of them delivers (commit ede94be);
 * - UnitSummaries1732600000002 gained the swap of `obligations_unit_rule_idx` for
 *   `obligations_unit_settled_idx` after its release (commit 6f46981);
 * - CalendarApplied1732600000004 gained `projection_rebuilds` after its release (commit 7d2cc0e).
 *
 * Each step is a no-op where the database has the current shape already, so an index is
 * rebuilt only where it is wrong.
 */
export class ReadModelDrift1732600000005 implements MigrationInterface {
  name = 'ReadModelDrift1732600000005';

  async up(q: QueryRunner): Promise<void> {
    const violationIndexes: Record<string, string> = {
      obligations_violation_idx: `CREATE INDEX obligations_violation_idx ON "rm".obligations (deadline, contract_id, key)
       WHERE fulfilled_on IS NULL OR fulfilled_on > deadline`,
      obligations_unit_violation_idx: `CREATE INDEX obligations_unit_violation_idx ON "rm".obligations (unit_code, deadline, contract_id, key)
       WHERE fulfilled_on IS NULL OR fulfilled_on > deadline`,
    };
    const descending: Array<{ indexname: string }> = await q.query(
      `SELECT indexname FROM pg_indexes
        WHERE schemaname = 'rm' AND indexname = ANY($1::text[]) AND indexdef LIKE '%deadline DESC%'`,
      [Object.keys(violationIndexes)],
    );
    for (const { indexname } of descending) {
      await q.query(`DROP INDEX "rm".${indexname}`);
      await q.query(violationIndexes[indexname]);
    }
    await q.query(`DROP INDEX IF EXISTS "rm".obligations_unit_rule_idx`);
    await q.query(
      `CREATE INDEX IF NOT EXISTS obligations_unit_settled_idx ON "rm".obligations (unit_code, settled_on)`,
    );
    await q.query(`
      CREATE TABLE IF NOT EXISTS projection_rebuilds (
        name        text PRIMARY KEY,
        state       text NOT NULL CHECK (state IN ('running', 'done', 'failed')),
        started_at  timestamptz NOT NULL,
        finished_at timestamptz,
        events      bigint NOT NULL DEFAULT 0,
        error       text,
        owner       text NOT NULL
      )`);
  }

  async down(): Promise<void> {
    // Nothing to undo: up only repairs drift; the earlier migrations' downs remove the objects.
  }
}
