/**
 * DDL of the compliance read models, parameterised by schema so that a rebuild can fill a
 * fresh schema while the live one keeps serving, then swap them atomically.
 */
export function readModelDdl(schema: string): string[] {
  const s = `"${schema}"`;
  return [
    `CREATE SCHEMA ${s}`,
    `CREATE TABLE ${s}.contracts (
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
       updated_at           timestamptz NOT NULL DEFAULT now(),
       payment_condition    text,
       payment_term_days    integer,
       late_interest_rate   text
     )`,
    `CREATE INDEX contracts_unit_idx ON ${s}.contracts (unit_code)`,
    `CREATE INDEX contracts_supplier_idx ON ${s}.contracts (supplier_credit_code)`,
    `CREATE TABLE ${s}.obligations (
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
       settled_on       date NOT NULL,
       final_status     text NOT NULL,
       policy           text,
       source           text,
       interest_final_on  date,
       interest_final_fen bigint,
       PRIMARY KEY (contract_id, key)
     )`,
    // a unit's obligations; those not settled on T first (settled_on > T)
    `CREATE INDEX obligations_unit_settled_idx ON ${s}.obligations (unit_code, settled_on)`,
    // Violations (late or overdue at some point), walked backwards for "newest first": the
    // queries order by (deadline, contract_id, key) DESC, the backward scan of this index.
    `CREATE INDEX obligations_violation_idx ON ${s}.obligations (deadline, contract_id, key)
       WHERE fulfilled_on IS NULL OR fulfilled_on > deadline`,
    `CREATE INDEX obligations_unit_violation_idx ON ${s}.obligations (unit_code, deadline, contract_id, key)
       WHERE fulfilled_on IS NULL OR fulfilled_on > deadline`,
    // Obligations whose status as of T is not their final one (settled_on > T): the only rows a
    // unit ranking reads one by one; everything settled comes from unit_rule_counts.
    `CREATE INDEX obligations_settled_idx ON ${s}.obligations (settled_on)`,
    // a unit's obligations of one rule by deadline (SME interest, disclosure, payment performance)
    `CREATE INDEX obligations_rule_unit_deadline_idx ON ${s}.obligations (rule, unit_code, deadline)`,
    // SME payment obligations whose late interest is not final on T (interest_final_on NULL
    // or after T), overall and per unit: the only ones the overview and a unit's compliance
    // compute one by one; the final interest of the others comes from
    // unit_rule_counts.interest_fen.
    `CREATE INDEX obligations_sme_interest_idx ON ${s}.obligations (interest_final_on)
       WHERE rule = 'smePayment'`,
    `CREATE INDEX obligations_unit_sme_interest_idx ON ${s}.obligations (unit_code, interest_final_on)
       WHERE rule = 'smePayment'`,
    // SME payment obligations late or overdue, by deadline: the candidates of the annual
    // disclosure (overdue on 31 December)
    `CREATE INDEX obligations_sme_violation_idx ON ${s}.obligations (deadline)
       WHERE rule = 'smePayment' AND (fulfilled_on IS NULL OR fulfilled_on > deadline)`,
    // Open obligations by deadline (GET /v1/deadlines, the notification sweep): "open,
    // deadline between today and today + N working days" is a range scan of the first, and
    // of the second for one unit. Fulfilment, exemption and termination leave it.
    `CREATE INDEX obligations_open_deadline_idx ON ${s}.obligations (deadline, contract_id, key)
       WHERE fulfilled_on IS NULL AND exempted_on IS NULL AND cancelled_on IS NULL`,
    `CREATE INDEX obligations_unit_open_deadline_idx ON ${s}.obligations (unit_code, deadline, contract_id, key)
       WHERE fulfilled_on IS NULL AND exempted_on IS NULL AND cancelled_on IS NULL`,
    ...unitSummaryDdl(schema),
    `CREATE INDEX obligations_provisional_idx ON ${s}.obligations (contract_id) WHERE provisional`,
    `CREATE TABLE ${s}.invoices (
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
     )`,
    `CREATE INDEX invoices_supplier_idx ON ${s}.invoices (supplier_credit_code)`,
    `CREATE TABLE ${s}.payments (
       contract_id   text NOT NULL,
       payment_id    text NOT NULL,
       supplier_credit_code text,
       kind          text NOT NULL,
       amount_fen    bigint NOT NULL,
       paid_on       date NOT NULL,
       invoice_no    text,
       unallocated_fen bigint NOT NULL,
       PRIMARY KEY (contract_id, payment_id)
     )`,
    `CREATE TABLE ${s}.allocations (
       contract_id   text NOT NULL,
       invoice_no    text NOT NULL,
       payment_id    text NOT NULL,
       paid_on       date NOT NULL,
       amount_fen    bigint NOT NULL
     )`,
    `CREATE INDEX allocations_invoice_idx ON ${s}.allocations (contract_id, invoice_no)`,
  ];
}

/**
 * Per (unit, region, rule, final status) obligation counts, and the sum of their final SME
 * late interest (`obligations.interest_final_fen`, smePayment rows only), maintained by the
 * projector in the transaction that replaces the obligations, and the version of that state
 * (the id of the last transaction that changed it — unique across schemas, so a cache keyed
 * on it never outlives a rebuild's swap).
 */
export function unitSummaryDdl(schema: string): string[] {
  const s = `"${schema}"`;
  return [
    `CREATE TABLE ${s}.unit_rule_counts (
       unit_code text NOT NULL,
       region    text NOT NULL,
       rule      text NOT NULL,
       status    text NOT NULL,
       n         integer NOT NULL,
       interest_fen bigint NOT NULL DEFAULT 0,
       PRIMARY KEY (unit_code, region, rule, status)
     )`,
    `CREATE TABLE ${s}.summary_state (
       id      boolean PRIMARY KEY DEFAULT true CHECK (id),
       version text NOT NULL
     )`,
    `INSERT INTO ${s}.summary_state (id, version) VALUES (true, pg_current_xact_id()::text)`,
  ];
}

export const LIVE_SCHEMA = 'rm';
export const BUILD_SCHEMA = 'rm_build';
export const PROJECTION_NAME = 'compliance';
