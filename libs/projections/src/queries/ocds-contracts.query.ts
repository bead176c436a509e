import { Query } from '@nestjs/cqrs';
import type { ObligationView } from './get-contract.query';
import type { AccessScope } from './scope';

/** Which contracts an OCDS export reads (all optional; `from`/`to` on the award date). */
export interface OcdsContractsFilter {
  contractId?: string;
  unit?: string;
  /** award notice (else signing) on or after */
  from?: string;
  /** award notice (else signing) on or before */
  to?: string;
}

/** What the OCDS export of one contract needs: its facts and its compliance results. */
export interface OcdsContractData {
  contractId: string;
  asOf: string;
  stage: string;
  dataQuality: Array<{ code: string; message: string; eventId?: string }>;
  obligations: ObligationView[];
  /** the stored facts, in stream order, without retractions, exemptions and retracted facts */
  events: Array<{
    eventId: string;
    type: string;
    occurredAt: string;
    data: Record<string, unknown>;
    correlationId: string | null;
  }>;
}

export interface OcdsContractsPage {
  items: OcdsContractData[];
  /** the key to pass as `after` for the next page; null on the last one */
  next: string | null;
}

/**
 * A page of contracts for the OCDS export (SPEC §10), in contract id order, within the
 * caller's scope: facts from the event store (up to the version the read model has
 * projected), obligations from the read model with their status as of `asOf`.
 */
export class OcdsContractsQuery extends Query<OcdsContractsPage> {
  constructor(
    readonly filter: OcdsContractsFilter,
    readonly asOf: string,
    readonly scope: AccessScope | undefined,
    readonly after: string | null,
    readonly limit: number,
  ) {
    super();
  }
}
