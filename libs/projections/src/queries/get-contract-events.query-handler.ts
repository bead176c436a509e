import { ErrorCodes } from '@app/contracts';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { businessDateOf } from '@app/domain';
import { PgEventStore } from '@app/event-store';
import { NotFoundError, ReadPool } from '@app/platform';
import { GetContractEventsQuery, type ContractEventsView } from './get-contract-events.query';

/** The contract's stream, read from the store through the read pool. */
@QueryHandler(GetContractEventsQuery)
export class GetContractEventsHandler implements IQueryHandler<GetContractEventsQuery> {
  constructor(
    private readonly db: ReadPool,
    private readonly store: PgEventStore,
  ) {}

  async execute(q: GetContractEventsQuery): Promise<ContractEventsView> {
    const events = await this.store.readStream(this.db.pool, q.contractId);
    if (events.length === 0)
      throw new NotFoundError(`contract ${q.contractId} not found`, ErrorCodes.CONTRACT_NOT_FOUND);
    const retracted = new Set(
      events
        .filter((e) => e.type === 'EventRetracted')
        .map((e) => String(e.data.retractedEventId).toLowerCase()),
    );
    return {
      contractId: q.contractId,
      version: events[events.length - 1].streamVersion,
      events: events.map((e) => ({
        eventId: e.eventId,
        type: e.type,
        streamVersion: e.streamVersion,
        globalPosition: e.globalPosition,
        occurredAt: e.occurredAt,
        businessDate: businessDateOf(Date.parse(e.occurredAt)),
        recordedAt: e.recordedAt,
        schemaVersion: e.schemaVersion,
        data: e.data,
        source: e.metadata.source,
        correlationId: e.metadata.correlationId ?? null,
        retracted: retracted.has(e.eventId),
      })),
    };
  }
}
