import { ErrorCodes, type ErrorCode } from '@app/contracts';
import {
  DecisionCodes,
  PolicyProblemCodes,
  type DecisionCode,
  type PolicyProblemCode,
} from '@app/domain';

/**
 * Every code the API can answer with: the platform's error codes, the domain's decisions and
 * its reasons for refusing a policy layer.
 */
export type ApiCode = ErrorCode | DecisionCode | PolicyProblemCode;

/** The registry, for documentation and checks: code → HTTP status. One line per code. */
export const HTTP_STATUS: Readonly<Record<ApiCode, number>> = {
  [ErrorCodes.INVALID_JSON]: 400,
  [ErrorCodes.INVALID_PAYLOAD]: 400,
  [ErrorCodes.INVALID_TEXT]: 400,
  [ErrorCodes.UNSTORABLE]: 400,
  [ErrorCodes.UNKNOWN_TYPE]: 400,
  [ErrorCodes.UNSUPPORTED_SCHEMA_VERSION]: 400,
  [ErrorCodes.OCCURRED_IN_FUTURE]: 400,
  [ErrorCodes.EVENT_TOO_LARGE]: 400,
  [ErrorCodes.BATCH_TOO_LARGE]: 413,
  [ErrorCodes.OCDS_INVALID_JSON]: 400,
  [ErrorCodes.OCDS_NOT_OCDS]: 400,
  [ErrorCodes.OCDS_UNSUPPORTED_VERSION]: 400,
  [ErrorCodes.OCDS_INVALID_RELEASE]: 400,
  [ErrorCodes.OCDS_RELEASE_TOO_LARGE]: 400,
  [ErrorCodes.OCDS_INVALID_AMOUNT]: 400,
  [ErrorCodes.OCDS_INVALID_DATE]: 400,
  [ErrorCodes.OCDS_INVALID_PARTY]: 400,
  [ErrorCodes.CONTRACT_NOT_FOUND]: 404,
  [ErrorCodes.UNIT_NOT_FOUND]: 404,
  [ErrorCodes.SUPPLIER_NOT_FOUND]: 404,
  [ErrorCodes.OBLIGATION_NOT_FOUND]: 404,
  [ErrorCodes.PROJECTION_NOT_FOUND]: 404,
  [ErrorCodes.UNKNOWN_RULE]: 400,
  [ErrorCodes.CALENDAR_INVALID_YEAR]: 400,
  [ErrorCodes.WEBHOOK_NOT_FOUND]: 404,
  [ErrorCodes.WEBHOOK_URL_INVALID]: 400,
  [ErrorCodes.WEBHOOK_URL_NOT_HTTPS]: 400,
  [ErrorCodes.WEBHOOK_URL_PRIVATE_ADDRESS]: 400,
  [ErrorCodes.WEBHOOK_URL_UNRESOLVABLE]: 400,
  [ErrorCodes.VALIDATION_FAILED]: 400,
  [ErrorCodes.RANGE_TOO_LONG]: 400,
  [ErrorCodes.EXPORT_TOO_LARGE]: 400,
  [ErrorCodes.INVALID_ENCODING]: 400,
  [ErrorCodes.UNSUPPORTED_MEDIA_TYPE]: 415,
  [ErrorCodes.PAYLOAD_TOO_LARGE]: 413,
  [ErrorCodes.NOT_FOUND]: 404,
  [ErrorCodes.METHOD_NOT_ALLOWED]: 405,
  [ErrorCodes.NOT_ACCEPTABLE]: 406,
  [ErrorCodes.CONFLICT]: 409,
  [ErrorCodes.TOO_MANY_REQUESTS]: 429,
  [ErrorCodes.UNAUTHORIZED]: 401,
  [ErrorCodes.FORBIDDEN]: 403,
  [ErrorCodes.QUERY_TIMEOUT]: 503,
  [ErrorCodes.UNAVAILABLE]: 503,
  [ErrorCodes.INTERNAL]: 500,
  [DecisionCodes.ALREADY_AWARDED]: 409,
  [DecisionCodes.ALREADY_SIGNED]: 409,
  [DecisionCodes.ALREADY_ANNOUNCED]: 409,
  [DecisionCodes.ALREADY_FILED]: 409,
  [DecisionCodes.PERFORMANCE_ALREADY_COMPLETED]: 409,
  [DecisionCodes.ALREADY_ACCEPTED]: 409,
  [DecisionCodes.ALREADY_TERMINATED]: 409,
  [DecisionCodes.INTENTION_ALREADY_PUBLISHED]: 409,
  [DecisionCodes.NOTICE_ALREADY_PUBLISHED]: 409,
  [DecisionCodes.INVOICE_ALREADY_RECEIVED]: 409,
  [DecisionCodes.PAYMENT_ALREADY_RECORDED]: 409,
  [DecisionCodes.ALREADY_EXEMPTED]: 409,
  [DecisionCodes.RETRACTED_EVENT_NOT_FOUND]: 409,
  [DecisionCodes.ALREADY_RETRACTED]: 409,
  [DecisionCodes.RETRACTION_NOT_RETRACTABLE]: 409,
  [DecisionCodes.OWNED_BY_ANOTHER_PLATFORM]: 409,
  [DecisionCodes.NOT_ALLOWED_ON_INGESTION]: 400,
  [PolicyProblemCodes.INVALID]: 400,
  [PolicyProblemCodes.UNKNOWN_RULE]: 400,
  [PolicyProblemCodes.INVALID_SETTING]: 400,
  [PolicyProblemCodes.OVERLAPPING]: 409,
};

/** The HTTP status of a code of the registry (500 for a string that is not one). */
export function httpStatusOf(code: string): number {
  return (HTTP_STATUS as Record<string, number>)[code] ?? 500;
}

/** The registry's code for a bare HTTP status (errors that carry no code of their own). */
export function codeOfStatus(status: number): ApiCode | undefined {
  return GENERIC_BY_STATUS[status];
}

const GENERIC_BY_STATUS: Record<number, ApiCode> = {
  400: ErrorCodes.VALIDATION_FAILED,
  401: ErrorCodes.UNAUTHORIZED,
  403: ErrorCodes.FORBIDDEN,
  404: ErrorCodes.NOT_FOUND,
  405: ErrorCodes.METHOD_NOT_ALLOWED,
  406: ErrorCodes.NOT_ACCEPTABLE,
  409: ErrorCodes.CONFLICT,
  413: ErrorCodes.PAYLOAD_TOO_LARGE,
  415: ErrorCodes.UNSUPPORTED_MEDIA_TYPE,
  429: ErrorCodes.TOO_MANY_REQUESTS,
  503: ErrorCodes.UNAVAILABLE,
};

/** The registry as Markdown, for the OpenAPI description (README has the same, with meanings). */
export function codesMarkdown(dataQualityCodes: readonly string[]): string {
  const rows = Object.entries(HTTP_STATUS)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([code, status]) => `| \`${code}\` | ${status} |`);
  return [
    'Errors are one shape everywhere: `{statusCode, code, message, details?, correlationId}`. The codes:',
    '',
    '| code | HTTP status |',
    '|---|---|',
    ...rows,
    '',
    `Data-quality flags on a contract (\`dataQuality[].code\`): ${dataQualityCodes.map((c) => `\`${c}\``).join(', ')}.`,
  ].join('\n');
}
