import { toFact } from '@app/domain';
import type { StreamFactRow } from '@app/event-store';

/** The domain's fact of a stored event, as the projector and the as-of reads assess it. */
export function factOfRow(e: StreamFactRow): ReturnType<typeof toFact> {
  return toFact({
    eventId: e.eventId,
    type: e.type,
    occurredAt: e.occurredAtMs,
    data: e.data,
    seq: Number(e.globalPosition),
  });
}
