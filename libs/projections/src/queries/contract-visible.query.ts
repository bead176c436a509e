import { Query } from '@nestjs/cqrs';
import type { AccessScope } from './scope';

/**
 * Whether a contract is in the caller's scope, per the read model. Always true for an
 * unrestricted caller (no scope), without a query.
 */
export class ContractVisibleQuery extends Query<boolean> {
  constructor(
    readonly contractId: string,
    readonly scope?: AccessScope,
  ) {
    super();
  }
}
