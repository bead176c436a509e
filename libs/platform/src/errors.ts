import { ErrorCodes } from '@app/contracts';
/** One error base with a stable code; the global filter renders it. */
export class AppError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly statusCode: number,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export class NotFoundError extends AppError {
  constructor(message = 'not found', code: string = ErrorCodes.NOT_FOUND) {
    super(code, message, 404);
  }
}

export class ValidationFailed extends AppError {
  constructor(message: string, details?: unknown, code: string = ErrorCodes.VALIDATION_FAILED) {
    super(code, message, 400, details);
  }
}

export class ServiceUnavailable extends AppError {
  constructor(message: string) {
    super(ErrorCodes.UNAVAILABLE, message, 503);
  }
}
