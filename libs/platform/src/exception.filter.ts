import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { isDataError, isDatabaseUnavailable } from '@app/event-store';
import type { Request, Response } from 'express';
import { correlationIdOf } from './correlation';
import { QUERY_CANCELED } from './database.module';
import { AppError } from './errors';
import { codeOfStatus } from './codes';
import { ErrorCodes } from '@app/contracts';

/** Seconds a client should wait before retrying a 503 (database away, query timed out). */
const RETRY_AFTER_SECONDS = 5;

/** Errors are one shape everywhere: {statusCode, code, message, details?, correlationId}. */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<Request>();
    const res = ctx.getResponse<Response>();
    const correlationId = correlationIdOf(req);
    let statusCode = 500;
    let code: string = ErrorCodes.INTERNAL;
    let message = 'internal error';
    let details: unknown;

    // Nest's Express adapter wraps body-parser errors in an HttpException with the original
    // as `cause`; unwrap so that invalid JSON and oversize bodies keep their own codes.
    const cause =
      exception instanceof HttpException ? (exception as { cause?: unknown }).cause : undefined;
    const bodyError = isBodyParserError(exception)
      ? exception
      : isBodyParserError(cause)
        ? cause
        : null;
    if (bodyError) {
      exception = bodyError;
    }
    if (isBodyParserError(exception)) {
      statusCode = exception.status;
      if (exception.type === 'entity.too.large') {
        code = ErrorCodes.PAYLOAD_TOO_LARGE;
        message = 'request body too large';
      } else if (exception.type === 'entity.parse.failed') {
        code = ErrorCodes.INVALID_JSON;
        message = 'request body is not valid JSON';
      } else if (exception.type === 'entity.verify.failed') {
        // our verify() refuses bodies that are not UTF-8 (see bootstrap.ts)
        statusCode = 400;
        code = ErrorCodes.INVALID_ENCODING;
        message = 'the request body is not valid UTF-8';
      } else {
        code = codeOfStatus(statusCode) ?? `HTTP.${statusCode}`;
        message = exception.message;
      }
    } else if (exception instanceof AppError) {
      ({ statusCode, code, message, details } = exception);
    } else if (exception instanceof HttpException) {
      statusCode = exception.getStatus();
      const body = exception.getResponse() as
        string | { message?: unknown; code?: string; details?: unknown };
      code =
        (typeof body === 'object' && body.code) || codeOfStatus(statusCode) || `HTTP.${statusCode}`;
      const msg = typeof body === 'string' ? body : body.message;
      if (Array.isArray(msg)) {
        message = 'the request is not valid';
        details = msg;
      } else {
        message = typeof msg === 'string' ? msg : exception.message;
        if (typeof body === 'object' && body.details !== undefined) details = body.details;
      }
    } else if ((exception as { code?: unknown })?.code === QUERY_CANCELED) {
      statusCode = 503;
      code = ErrorCodes.QUERY_TIMEOUT;
      message =
        'the query took longer than the service allows (QUERY_TIMEOUT_MS); narrow it (filters, a later asOf) or retry later';
    } else if (isDatabaseUnavailable(exception)) {
      statusCode = 503;
      code = ErrorCodes.UNAVAILABLE;
      message = 'the database is not available; retry later (nothing of this request was stored)';
      this.logger.warn(`database unavailable [${correlationId}]: ${(exception as Error)?.message}`);
    } else if (isDataError(exception)) {
      // the database refused a value of the request (guarded against at the doors; a
      // request must never answer 500 for its own content)
      statusCode = 400;
      code = ErrorCodes.VALIDATION_FAILED;
      message = 'a value of the request cannot be processed';
      // only the SQLSTATE: the database's message can quote the refused value (request content)
      this.logger.warn(
        `data error [${correlationId}]: SQLSTATE ${String((exception as { code?: unknown }).code)}`,
      );
    } else {
      this.logger.error(
        `unhandled error [${correlationId}]: ${(exception as Error)?.stack ?? String(exception)}`,
      );
    }
    if (res.headersSent) {
      res.end();
      return;
    }
    if (statusCode === 503) res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
    res.status(statusCode).json({
      statusCode,
      code,
      message,
      ...(details !== undefined ? { details } : {}),
      correlationId,
    });
  }
}

function isBodyParserError(e: unknown): e is { status: number; type: string; message: string } {
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof (e as { status?: unknown }).status === 'number' &&
    typeof (e as { type?: unknown }).type === 'string'
  );
}
