/**
 * What a caller may see. Inspectors may be limited to regions (prefix match on the unit's
 * region code); suppliers to their own credit code. Undefined = unrestricted.
 */
export interface AccessScope {
  regions?: string[];
  supplierCreditCode?: string;
}

/** SQL conditions (and their parameters) restricting rows of a table alias to the scope. */
export function scopeSql(scope: AccessScope | undefined, alias: string, params: unknown[]): string {
  const parts: string[] = [];
  if (scope?.regions) {
    params.push(scope.regions.map((r) => `${r}%`));
    parts.push(`${alias}.region LIKE ANY($${params.length}::text[])`);
  }
  if (scope?.supplierCreditCode !== undefined) {
    params.push(scope.supplierCreditCode);
    parts.push(`${alias}.supplier_credit_code = $${params.length}`);
  }
  return parts.length ? parts.join(' AND ') : 'TRUE';
}
