import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

const HEADER = 'x-correlation-id';
const SAFE = /^[A-Za-z0-9._:-]{1,100}$/;

/** What every line logged while handling a request carries (see AppLogger). */
export interface RequestContext {
  correlationId: string;
}

/** The request being handled (AsyncLocalStorage), for the logger. */
export const requestContext = new AsyncLocalStorage<RequestContext>();

export function correlationIdOf(req: Request): string {
  return (req as Request & { correlationId?: string }).correlationId ?? 'unknown';
}

/**
 * Takes a caller's correlation id (if well formed) or makes one, and echoes it back; the
 * rest of the request runs inside its RequestContext (body-parser keeps it: raw-body calls
 * back in the caller's async scope; tests/integration/logging.int-spec.ts checks it).
 */
export function correlationMiddleware(req: Request, res: Response, next: NextFunction): void {
  const given = req.header(HEADER);
  const id = given && SAFE.test(given) ? given : randomUUID();
  (req as Request & { correlationId?: string }).correlationId = id;
  res.setHeader(HEADER, id);
  requestContext.run({ correlationId: id }, next);
}
