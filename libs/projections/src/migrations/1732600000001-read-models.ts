import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Compliance read models (schema `rm`), the working-day calendar table and the official
 * calendar years uploaded by administrators.
 *
 * Frozen as first released: the read-model statements are those `readModelDdl('rm')` produced
 * then (commit ecb956e). The builder has changed since; later migrations bring a schema made
 * here to its current shape (UnitSummaries1732600000002, ReadModelDrift1732600000005), and
 * tests/integration/migrations.int-spec.ts checks that the two agree.
 */
export class ReadModels1732600000001 implements MigrationInterface {
  name = 'ReadModels1732600000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE SCHEMA "rm"`);
    await q.query(`CREATE TABLE "rm".contracts (
       contract_id          text PRIMARY KEY,
       unit_code            text,
       unit_name            text,
       region               text,
       supplier_credit_code text,
       supplier_name        text,
       supplier_size        text,
       sme                  boolean,
       project_code         text,
       project_name         text,
       award_amount_fen     bigint,
       amount_fen           bigint,
       prepayment_ratio     text,
       awarded_on           date,
       signed_on            date,
       announced_on         date,
       filed_on             date,
       performance_completed_on date,
       accepted_on          date,
       terminated_on        date,
       stage                text NOT NULL,
       prep_started_on      date,
       prep_threshold_percent smallint,
       prep_required_fen    bigint,
       prep_met_on          date,
       prep_ended_on        date,
       prep_exempted_on     date,
       data_quality         jsonb NOT NULL DEFAULT '[]'::jsonb,
       stream_version       integer NOT NULL,
       updated_at           timestamptz NOT NULL DEFAULT now()
     )`);
    await q.query(`CREATE INDEX contracts_unit_idx ON "rm".contracts (unit_code)`);
    await q.query(`CREATE INDEX contracts_supplier_idx ON "rm".contracts (supplier_credit_code)`);
    await q.query(`CREATE TABLE "rm".obligations (
       contract_id      text NOT NULL,
       key              text NOT NULL,
       rule             text NOT NULL,
       unit_code        text,
       region           text,
       supplier_credit_code text,
       sme              boolean,
       started_on       date NOT NULL,
       deadline         date NOT NULL,
       fulfilled_on     date,
       exempted_on      date,
       cancelled_on     date,
       provisional      boolean NOT NULL,
       working_day_rule boolean NOT NULL,
       invoice_no       text,
       PRIMARY KEY (contract_id, key)
     )`);
    await q.query(`CREATE INDEX obligations_unit_rule_idx ON "rm".obligations (unit_code, rule)`);
    await q.query(`CREATE INDEX obligations_violation_idx ON "rm".obligations (deadline DESC, contract_id, key)
       WHERE fulfilled_on IS NULL OR fulfilled_on > deadline`);
    await q.query(`CREATE INDEX obligations_unit_violation_idx ON "rm".obligations (unit_code, deadline DESC, contract_id, key)
       WHERE fulfilled_on IS NULL OR fulfilled_on > deadline`);
    await q.query(
      `CREATE INDEX obligations_provisional_idx ON "rm".obligations (contract_id) WHERE provisional`,
    );
    await q.query(`CREATE TABLE "rm".invoices (
       contract_id   text NOT NULL,
       invoice_no    text NOT NULL,
       supplier_credit_code text,
       stage         text NOT NULL,
       amount_fen    bigint NOT NULL,
       received_on   date NOT NULL,
       condition_on  date,
       started_on    date,
       due_on        date,
       provisional   boolean NOT NULL,
       paid_fen      bigint NOT NULL,
       paid_on       date,
       PRIMARY KEY (contract_id, invoice_no)
     )`);
    await q.query(`CREATE INDEX invoices_supplier_idx ON "rm".invoices (supplier_credit_code)`);
    await q.query(`CREATE TABLE "rm".payments (
       contract_id   text NOT NULL,
       payment_id    text NOT NULL,
       supplier_credit_code text,
       kind          text NOT NULL,
       amount_fen    bigint NOT NULL,
       paid_on       date NOT NULL,
       invoice_no    text,
       unallocated_fen bigint NOT NULL,
       PRIMARY KEY (contract_id, payment_id)
     )`);
    await q.query(`CREATE TABLE "rm".allocations (
       contract_id   text NOT NULL,
       invoice_no    text NOT NULL,
       payment_id    text NOT NULL,
       paid_on       date NOT NULL,
       amount_fen    bigint NOT NULL
     )`);
    await q.query(
      `CREATE INDEX allocations_invoice_idx ON "rm".allocations (contract_id, invoice_no)`,
    );
    // One row per day: a running working-day index turns "working days between" into a subtraction.
    await q.query(`
      CREATE TABLE business_days (
        day           date PRIMARY KEY,
        is_working    boolean NOT NULL,
        working_index integer NOT NULL,
        provisional   boolean NOT NULL
      )`);
    await q.query(`
      CREATE TABLE calendar_years (
        year         integer PRIMARY KEY,
        rest_days    date[] NOT NULL,
        working_days date[] NOT NULL,
        source       text NOT NULL,
        loaded_at    timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE calendar_state (
        id        boolean PRIMARY KEY DEFAULT true CHECK (id),
        version   bigint NOT NULL DEFAULT 0
      )`);
    await q.query(`INSERT INTO calendar_state (id, version) VALUES (true, 0)`);
    // Status of an obligation as of day t: the SQL twin of obligationStatusAsOf (libs/domain
    // rules/status.ts); both must stay identical (tests compare them).
    await q.query(`
      CREATE FUNCTION obligation_status(started date, deadline date, fulfilled date, exempted date, cancelled date, t date)
      RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT CASE
          WHEN started > t THEN NULL
          WHEN exempted <= t THEN 'exempted'
          WHEN fulfilled <= t THEN CASE WHEN fulfilled <= deadline THEN 'met' ELSE 'late' END
          WHEN cancelled <= t THEN CASE WHEN cancelled <= deadline THEN 'cancelled' ELSE 'overdue' END
          WHEN t > deadline THEN 'overdue'
          ELSE 'pending'
        END
      $$`);
    // The day up to which a delay counts (late: fulfilment; overdue: t, or the termination
    // that froze it); NULL when there is no delay.
    await q.query(`
      CREATE FUNCTION obligation_delay_end(started date, deadline date, fulfilled date, exempted date, cancelled date, t date)
      RETURNS date LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT CASE obligation_status(started, deadline, fulfilled, exempted, cancelled, t)
          WHEN 'late' THEN fulfilled
          WHEN 'overdue' THEN CASE WHEN cancelled <= t THEN cancelled ELSE t END
          ELSE NULL
        END
      $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION obligation_delay_end, obligation_status`);
    await q.query(`DROP TABLE calendar_state, calendar_years, business_days`);
    await q.query(`DROP SCHEMA "rm" CASCADE`);
  }
}
