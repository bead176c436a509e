import { Query } from '@nestjs/cqrs';

export interface ContractEventView {
  eventId: string;
  type: string;
  streamVersion: number;
  globalPosition: string;
  occurredAt: string;
  businessDate: string;
  recordedAt: string;
  schemaVersion: number;
  data: Record<string, unknown>;
  source: unknown;
  correlationId: string | null;
  retracted: boolean;
}

export interface ContractEventsView {
  contractId: string;
  version: number;
  events: ContractEventView[];
}

/** The stored history of one contract, in stream order. */
export class GetContractEventsQuery extends Query<ContractEventsView> {
  constructor(readonly contractId: string) {
    super();
  }
}
