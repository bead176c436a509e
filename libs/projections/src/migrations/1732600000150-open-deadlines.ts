import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Upcoming deadlines (SPEC §8, `GET /v1/deadlines`): partial indexes of the open obligations
 * (not fulfilled, exempted or cancelled) by deadline, overall and per unit, so that "open,
 * deadline between today and today + N working days, scoped" reads a short range of an index
 * at any number of contracts. The same as `readModelDdl` creates.
 */
export class OpenDeadlines1732600000150 implements MigrationInterface {
  name = 'OpenDeadlines1732600000150';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX IF NOT EXISTS obligations_open_deadline_idx ON "rm".obligations (deadline, contract_id, key)
       WHERE fulfilled_on IS NULL AND exempted_on IS NULL AND cancelled_on IS NULL`);
    await q.query(`CREATE INDEX IF NOT EXISTS obligations_unit_open_deadline_idx ON "rm".obligations (unit_code, deadline, contract_id, key)
       WHERE fulfilled_on IS NULL AND exempted_on IS NULL AND cancelled_on IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `DROP INDEX IF EXISTS "rm".obligations_open_deadline_idx, "rm".obligations_unit_open_deadline_idx`,
    );
  }
}
