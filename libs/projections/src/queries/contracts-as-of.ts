import {
  assessContract,
  toFact,
  type BusinessDate,
  type ContractAssessment,
  type PolicyLayer,
  type WorkCalendar,
} from '@app/domain';
import type { PgEventStore, Sql, StreamFactRow } from '@app/event-store';
import { factOfRow } from '../stream-fact';

/**
 * Contracts as they stood on `asOf` (SPEC §3: only facts dated on or before it count): each
 * history re-assessed with `assessContract(…, asOf)`, up to the stream version its read-model
 * rows were computed from, so that the answer is consistent with those rows (the obligations,
 * invoices and allocations, which hold dates and are filtered by date in SQL).
 *
 * The read model keeps one row per contract for its whole history: its stage, parties,
 * amounts, prepayment target and data-quality flags are the final ones, and some of them
 * cannot be told for an earlier day from dates alone (a flag that held only until a later
 * fact, the prepayment threshold of a supplier named by a later award). A contract's history
 * is a few dozen events, read by one index scan, and assessing it takes microseconds.
 *
 * Only the contract-level part of the result is meant to be used: the obligations come from
 * the read model, whose deadlines the projector computed with the calendar in force (the
 * calendar given here is not consulted for anything this part depends on).
 */
export async function contractsAsOf(
  c: Sql,
  store: PgEventStore,
  /** contract id → the read model's `stream_version` */
  versions: ReadonlyMap<string, number>,
  asOf: BusinessDate,
  cal: WorkCalendar,
  /** the applied policy layers (the prepayment target depends on them) */
  policies: readonly PolicyLayer[],
): Promise<Map<string, ContractAssessment>> {
  const history = await store.readStreamFacts(c, [...versions.keys()], { prepare: true });
  return assessAsOf(history, versions, asOf, cal, policies);
}

/**
 * contractsAsOf on histories already read (readStreamFacts' rows, in stream order; the rows
 * past a contract's projected version are left out here).
 */
export function assessAsOf(
  history: readonly StreamFactRow[],
  versions: ReadonlyMap<string, number>,
  asOf: BusinessDate,
  cal: WorkCalendar,
  policies: readonly PolicyLayer[],
): Map<string, ContractAssessment> {
  const facts = new Map<string, ReturnType<typeof toFact>[]>();
  for (const id of versions.keys()) facts.set(id, []);
  for (const e of history) {
    if (e.streamVersion > versions.get(e.streamId)!) continue; // not projected yet
    facts.get(e.streamId)!.push(factOfRow(e));
  }
  const out = new Map<string, ContractAssessment>();
  for (const [id, list] of facts) out.set(id, assessContract(id, list, cal, asOf, policies));
  return out;
}
