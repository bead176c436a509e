import { EventStore1732600000000 } from './1732600000000-event-store';
import { AuditKeys1732600000003 } from './1732600000003-audit-keys';
import { EventsRecordedAt1732600000011 } from './1732600000011-events-recorded-at';
import { StreamsView1732600000160 } from './1732600000160-streams-view';

/** The event store's migrations, in order (they run before the read models'). */
export const EVENT_STORE_MIGRATIONS = [
  EventStore1732600000000,
  AuditKeys1732600000003,
  EventsRecordedAt1732600000011,
  StreamsView1732600000160,
];
