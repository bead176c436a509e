import { Command } from '@nestjs/cqrs';
import type { FieldError } from '@app/contracts';
import type { DecisionOrigin } from '@app/domain';
import type { EventSource } from '@app/event-store';

/** One raw event as received (already JSON-parsed), with where it came from. */
export interface IngestItem {
  raw: unknown;
  source: EventSource;
}

export type IngestStatus = 'accepted' | 'duplicate' | 'rejected';

export interface IngestOutcome {
  eventId: string | null;
  status: IngestStatus;
  code?: string;
  message?: string;
  errors?: FieldError[];
  /** HTTP status a single-event request answers with */
  httpStatus: 200 | 202 | 400 | 404 | 409;
}

/**
 * Record a batch of events: validate, drop duplicates, decide against each contract's
 * history, append all accepted events with optimistic concurrency, keep the rejected ones
 * for audit. One outcome per item, in order.
 */
export class RecordEventsCommand extends Command<IngestOutcome[]> {
  constructor(
    readonly items: IngestItem[],
    readonly origin: DecisionOrigin = 'ingestion',
  ) {
    super();
  }
}
