import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { ReadPool } from '@app/platform';
import { PingDatabaseQuery } from './database-ping.query';

@QueryHandler(PingDatabaseQuery)
export class PingDatabaseHandler implements IQueryHandler<PingDatabaseQuery> {
  constructor(private readonly db: ReadPool) {}

  async execute(): Promise<boolean> {
    try {
      await this.db.pool.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }
}
