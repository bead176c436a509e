import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { ReadPool } from '@app/platform';
import { LIVE_SCHEMA } from '../read-model-ddl';
import { ObligationExistsQuery } from './obligation-exists.query';
import { scopeSql } from './scope';

const RM = `"${LIVE_SCHEMA}"`;

@QueryHandler(ObligationExistsQuery)
export class ObligationExistsHandler implements IQueryHandler<ObligationExistsQuery> {
  constructor(private readonly db: ReadPool) {}

  async execute(q: ObligationExistsQuery): Promise<boolean> {
    const values: unknown[] = [q.contractId, q.key];
    const scope = scopeSql(q.scope, 'c', values);
    const { rows } = await this.db.query(
      `SELECT 1 FROM ${RM}.contracts c
        WHERE c.contract_id = $1 AND ${scope}
          AND (EXISTS (SELECT 1 FROM ${RM}.obligations o WHERE o.contract_id = c.contract_id AND o.key = $2)
               OR ($2 = 'prepayment' AND c.prep_started_on IS NOT NULL))`,
      values,
    );
    return rows.length > 0;
  }
}
