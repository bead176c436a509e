import { v5 } from 'uuid';

/**
 * The namespace of the monitor's OCDS event ids (a random UUID fixed once, never changed:
 * changing it would make every re-import a new set of events).
 */
export const OCDS_EVENT_ID_NAMESPACE = 'd0f4ad56-6cec-4a35-80b3-cd2b0a2ae0f4';

/**
 * The event id of the fact found at `path` of release `releaseId` of process `ocid`: UUID v5
 * (RFC 9562, SHA-1) of the JSON array `[ocid, releaseId, path]` under
 * {@link OCDS_EVENT_ID_NAMESPACE}. The same release imported twice gives the same ids, so the
 * second import is all duplicates. `path` names array elements by their OCDS `id`
 * (`contracts[C1].implementation.transactions[T1]`), so reordering an array changes nothing.
 */
export function ocdsEventId(ocid: string, releaseId: string, path: string): string {
  return v5(JSON.stringify([ocid, releaseId, path]), OCDS_EVENT_ID_NAMESPACE);
}
