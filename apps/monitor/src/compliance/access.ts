import { PgEventStore } from '@app/event-store';
import { NotFoundError } from '@app/platform';
import { LIVE_SCHEMA, scopeSql, type AccessScope } from '@app/projections';
import type { Request } from 'express';

/** The data scope of the authenticated caller (set by the auth guard); none = unrestricted. */
export function scopeOf(req: Request): AccessScope | undefined {
  return (req as Request & { scope?: AccessScope }).scope;
}

/**
 * For a scoped caller (supplier, region-limited inspector): 404 CONTRACT.NOT_FOUND unless the
 * contract is in its scope, per the read model. The answer is the same as for a contract
 * that does not exist, so nothing leaks about other suppliers' contracts.
 */
export async function assertContractVisible(
  store: PgEventStore,
  contractId: string,
  scope: AccessScope | undefined,
): Promise<void> {
  if (!scope) return;
  const values: unknown[] = [contractId];
  const where = scopeSql(scope, 'c', values);
  const { rows } = await store.pool.query(
    `SELECT 1 FROM "${LIVE_SCHEMA}".contracts c WHERE c.contract_id = $1 AND ${where}`,
    values,
  );
  if (rows.length === 0)
    throw new NotFoundError(`contract ${contractId} not found`, 'CONTRACT.NOT_FOUND');
}
