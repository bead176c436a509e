import { ErrorCodes, hasUnstorableText } from '@app/contracts';
import type { NextFunction, Request, Response } from 'express';
import { correlationIdOf } from './correlation';
import { AppError } from './errors';

/** A JSON body that is not valid UTF-8 (thrown from body-parser's `verify`). */
export class InvalidEncoding extends AppError {
  constructor() {
    super(ErrorCodes.INVALID_ENCODING, 'the request body is not valid UTF-8', 400);
  }
}

/**
 * Refuses a URL whose decoded path or query holds U+0000 or an unpaired surrogate: no
 * identifier of ours contains one, and PostgreSQL cannot take it as a parameter. Answers 400
 * REQUEST.INVALID_ENCODING (through the exception filter), never a database error.
 */
export function refuseUnstorableUrls(req: Request, res: Response, next: NextFunction): void {
  const url = req.originalUrl ?? req.url ?? '';
  if (!url.includes('%')) return next();
  let decoded: string;
  try {
    decoded = decodeURIComponent(url.replace(/\+/g, ' '));
  } catch {
    return refuse(req, res, 'the URL is not valid percent-encoded UTF-8');
  }
  if (hasUnstorableText(decoded))
    return refuse(
      req,
      res,
      'the URL holds U+0000 or an unpaired surrogate, which no identifier or parameter contains',
    );
  next();
}

/** Answers here, in the one error shape: this runs before Nest's routing and filters. */
function refuse(req: Request, res: Response, message: string): void {
  res.status(400).json({
    statusCode: 400,
    code: ErrorCodes.INVALID_ENCODING,
    message,
    correlationId: correlationIdOf(req),
  });
}
