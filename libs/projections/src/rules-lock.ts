import type { PoolClient } from 'pg';

type Sql = Pick<PoolClient, 'query'>;

/**
 * The advisory lock of the rules in force — the applied working-day calendar and the applied
 * policy layers. Taken exclusively (transaction-scoped) to apply either (CalendarService,
 * PolicyService), shared by every transaction that computes deadlines with them (projector
 * batches) and, for its whole run, by a rebuild: a batch never commits deadlines computed
 * with rules older than those recorded as applied, and a rebuild computes with one set.
 */
export const RULES_LOCK = `hashtext('calendar-table')`;

/**
 * Takes the rules lock exclusively for transaction `c`: waits for it (`wait`), or answers
 * false at once when another transaction holds it.
 */
export async function lockRulesExclusively(c: Sql, wait: boolean): Promise<boolean> {
  if (wait) {
    await c.query(`SELECT pg_advisory_xact_lock(${RULES_LOCK})`);
    return true;
  }
  const got = await c.query<{ ok: boolean }>(
    `SELECT pg_try_advisory_xact_lock(${RULES_LOCK}) AS ok`,
  );
  return got.rows[0].ok;
}
