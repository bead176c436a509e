import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

const HEADER = 'x-correlation-id';
const SAFE = /^[A-Za-z0-9._:-]{1,100}$/;

export function correlationIdOf(req: Request): string {
  return (req as Request & { correlationId?: string }).correlationId ?? 'unknown';
}

/** Takes a caller's correlation id (if well formed) or makes one, and echoes it back. */
export function correlationMiddleware(req: Request, res: Response, next: NextFunction): void {
  const given = req.header(HEADER);
  const id = given && SAFE.test(given) ? given : randomUUID();
  (req as Request & { correlationId?: string }).correlationId = id;
  res.setHeader(HEADER, id);
  next();
}
