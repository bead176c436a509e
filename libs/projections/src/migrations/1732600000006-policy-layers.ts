import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Policy layers as data (SPEC §6).
 *
 * `policy_layers`: every version of every layer stored through the admin API (the built-in
 * layers of the code are the base; a stored layer with the same id replaces it), with who
 * changed it and when; the latest version of an id is the one in force. `policy_state` keeps
 * the stored version (bumped by every change) and what was last *applied* to the read models:
 * the version, the whole set of layers in force then and its fingerprint (NULL: never
 * applied — the first apply recomputes every stored contract, whose obligations were computed
 * before layers existed).
 *
 * `rm.obligations` gains the layer and the article each obligation follows.
 */
export class PolicyLayers1732600000006 implements MigrationInterface {
  name = 'PolicyLayers1732600000006';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE policy_layers (
        id         text NOT NULL,
        version    integer NOT NULL,
        layer      jsonb NOT NULL,
        changed_by text NOT NULL,
        changed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (id, version)
      )`);
    await q.query(`
      CREATE TABLE policy_state (
        id                  boolean PRIMARY KEY DEFAULT true CHECK (id),
        version             bigint NOT NULL DEFAULT 0,
        applied_version     bigint,
        applied_fingerprint text,
        applied_layers      jsonb,
        applied_at          timestamptz
      )`);
    await q.query(`INSERT INTO policy_state (id) VALUES (true)`);
    await q.query(`ALTER TABLE "rm".obligations ADD COLUMN policy text, ADD COLUMN source text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "rm".obligations DROP COLUMN policy, DROP COLUMN source`);
    await q.query(`DROP TABLE policy_state`);
    await q.query(`DROP TABLE policy_layers`);
  }
}
