import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { ReadPool } from '@app/platform';
import { LIVE_SCHEMA } from '../read-model-ddl';
import { ContractVisibleQuery } from './contract-visible.query';
import { scopeSql } from './scope';

@QueryHandler(ContractVisibleQuery)
export class ContractVisibleHandler implements IQueryHandler<ContractVisibleQuery> {
  constructor(private readonly db: ReadPool) {}

  async execute(q: ContractVisibleQuery): Promise<boolean> {
    if (!q.scope) return true;
    const values: unknown[] = [q.contractId];
    const where = scopeSql(q.scope, 'c', values);
    const { rows } = await this.db.query(
      `SELECT 1 FROM "${LIVE_SCHEMA}".contracts c WHERE c.contract_id = $1 AND ${where}`,
      values,
    );
    return rows.length > 0;
  }
}
