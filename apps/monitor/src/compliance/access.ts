import type { QueryBus } from '@nestjs/cqrs';
import { ErrorCodes } from '@app/contracts';
import { NotFoundError } from '@app/platform';
import { ContractVisibleQuery, type AccessScope } from '@app/projections';

/**
 * For a scoped caller (supplier, region-limited inspector): 404 CONTRACT.NOT_FOUND unless the
 * contract is in its scope, per the read model. The answer is the same as for a contract
 * that does not exist, so nothing leaks about other suppliers' contracts.
 */
export async function assertContractVisible(
  queries: QueryBus,
  contractId: string,
  scope: AccessScope | undefined,
): Promise<void> {
  if (!(await queries.execute(new ContractVisibleQuery(contractId, scope))))
    throw new NotFoundError(`contract ${contractId} not found`, ErrorCodes.CONTRACT_NOT_FOUND);
}
