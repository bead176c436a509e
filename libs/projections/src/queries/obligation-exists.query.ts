import { Query } from '@nestjs/cqrs';
import type { AccessScope } from './scope';

/**
 * Whether a contract in the caller's scope has the obligation `key` (`prepayment`: whether
 * its prepayment is tracked), per the read model: what an exemption may name.
 */
export class ObligationExistsQuery extends Query<boolean> {
  constructor(
    readonly contractId: string,
    readonly key: string,
    readonly scope?: AccessScope,
  ) {
    super();
  }
}
