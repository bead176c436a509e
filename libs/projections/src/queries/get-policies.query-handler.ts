import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { ReadPool } from '@app/platform';
import { PolicyService } from '../policy.service';
import { GetPoliciesQuery, type PoliciesView } from './get-policies.query';

@QueryHandler(GetPoliciesQuery)
export class GetPoliciesHandler implements IQueryHandler<GetPoliciesQuery> {
  constructor(
    private readonly db: ReadPool,
    private readonly policies: PolicyService,
  ) {}

  async execute(): Promise<PoliciesView> {
    const [layers, pending] = await Promise.all([
      this.policies.list(this.db.pool),
      this.policies.pending(this.db.pool),
    ]);
    return { pending, layers };
  }
}
