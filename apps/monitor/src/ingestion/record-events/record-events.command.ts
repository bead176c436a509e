import { Command } from '@nestjs/cqrs';
import { ErrorCodes } from '@app/contracts';
import type { FieldError } from '@app/contracts';
import type { DecisionOrigin } from '@app/domain';
import type { EventSource } from '@app/event-store';
import { AppError, httpStatusOf } from '@app/platform';

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

/** The HTTP error of a rejected outcome: its code, with the status the code table gives. */
export function rejectionError(o: IngestOutcome): AppError {
  return new AppError(
    o.code ?? ErrorCodes.INTERNAL,
    o.message ?? 'rejected',
    httpStatusOf(o.code ?? ''),
    o.errors ?? [],
  );
}

/** One entry of `results` in the answer to a batch (SPEC §4): code and errors only when rejected. */
export function outcomeResult(o: IngestOutcome) {
  return o.status === 'rejected'
    ? {
        eventId: o.eventId,
        status: o.status,
        code: o.code,
        message: o.message,
        errors: o.errors ?? [],
      }
    : { eventId: o.eventId, status: o.status };
}
