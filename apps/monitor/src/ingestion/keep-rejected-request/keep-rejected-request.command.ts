import { Command } from '@nestjs/cqrs';
import type { RejectedEventRow } from '@app/event-store';

/**
 * Keep a request refused as a whole (not JSON, not UTF-8, too large, wrong media type) in
 * rejected_events, as Kafka keeps the records it cannot read: the audit trail shows what a
 * platform sent, not only what was accepted.
 */
export class KeepRejectedRequestCommand extends Command<void> {
  constructor(readonly row: RejectedEventRow) {
    super();
  }
}
