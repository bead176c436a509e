import type { AccessScope } from '@app/projections';
import type { Request } from 'express';

/** The data scope of the authenticated caller (set by the auth guard); none = unrestricted. */
export function scopeOf(req: Request): AccessScope | undefined {
  return (req as Request & { scope?: AccessScope }).scope;
}
