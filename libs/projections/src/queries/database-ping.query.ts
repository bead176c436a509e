import { Query } from '@nestjs/cqrs';

/** Whether the database answers (`/health`): true when it does, false when it cannot be reached. */
export class PingDatabaseQuery extends Query<boolean> {}
