/**
 * Stable error codes of the API and the dead-letter topic, except the decisions against a
 * contract's history (`DecisionCodes` of @app/domain): clients depend on these strings, never
 * rename one, only add. Every code has its HTTP status in one table (libs/platform codes.ts).
 */
export const ErrorCodes = {
  // Envelope and payload validation (HTTP 400 / DLQ)
  INVALID_JSON: 'EVENT.INVALID_JSON',
  INVALID_PAYLOAD: 'EVENT.INVALID_PAYLOAD',
  /** a key or string holds U+0000 or an unpaired surrogate (PostgreSQL cannot store it) */
  INVALID_TEXT: 'EVENT.INVALID_TEXT',
  /** the database refused the event's content although it passed validation (kept for audit) */
  UNSTORABLE: 'EVENT.UNSTORABLE',
  UNKNOWN_TYPE: 'EVENT.UNKNOWN_TYPE',
  UNSUPPORTED_SCHEMA_VERSION: 'EVENT.UNSUPPORTED_SCHEMA_VERSION',
  OCCURRED_IN_FUTURE: 'EVENT.OCCURRED_IN_FUTURE',
  EVENT_TOO_LARGE: 'EVENT.TOO_LARGE',
  BATCH_TOO_LARGE: 'EVENT.BATCH_TOO_LARGE',
  // OCDS import (SPEC §10): the input as a whole (HTTP 400)
  /** the OCDS body is not JSON */
  OCDS_INVALID_JSON: 'OCDS.INVALID_JSON',
  /** JSON, but neither a release package, a record package nor (JSON Lines of) releases */
  OCDS_NOT_OCDS: 'OCDS.NOT_OCDS',
  /** a package whose `version` is not 1.1 or 1.2 */
  OCDS_UNSUPPORTED_VERSION: 'OCDS.UNSUPPORTED_VERSION',
  // OCDS import: one release, or one fact of it (in the per-release answer)
  /** a release without the required OCDS fields (ocid, id, date, tag) or with a wrong type */
  OCDS_INVALID_RELEASE: 'OCDS.INVALID_RELEASE',
  /** a release over the reader's size limit (about 1 MiB of JSON) */
  OCDS_RELEASE_TOO_LARGE: 'OCDS.RELEASE_TOO_LARGE',
  /** an amount that is not a JSON number, has more than 2 decimals, is not positive, or not CNY */
  OCDS_INVALID_AMOUNT: 'OCDS.INVALID_AMOUNT',
  /** a date-time without an offset, or not a date-time */
  OCDS_INVALID_DATE: 'OCDS.INVALID_DATE',
  /** the buyer or the supplier cannot be identified (CN-USCC identifier, details.scale) */
  OCDS_INVALID_PARTY: 'OCDS.INVALID_PARTY',
  // Reads and commands that name something that is not there (HTTP 404)
  CONTRACT_NOT_FOUND: 'CONTRACT.NOT_FOUND',
  UNIT_NOT_FOUND: 'UNIT.NOT_FOUND',
  SUPPLIER_NOT_FOUND: 'SUPPLIER.NOT_FOUND',
  OBLIGATION_NOT_FOUND: 'OBLIGATION.NOT_FOUND',
  PROJECTION_NOT_FOUND: 'PROJECTION.NOT_FOUND',
  UNKNOWN_RULE: 'CONTRACT.UNKNOWN_RULE',
  // Admin input
  CALENDAR_INVALID_YEAR: 'CALENDAR.INVALID_YEAR',
  WEBHOOK_NOT_FOUND: 'WEBHOOK.NOT_FOUND',
  /** not an absolute URL, or with credentials or a fragment, or too long */
  WEBHOOK_URL_INVALID: 'WEBHOOK.URL_INVALID',
  /** not https (http is accepted to a loopback host only) */
  WEBHOOK_URL_NOT_HTTPS: 'WEBHOOK.URL_NOT_HTTPS',
  /** the host is or resolves to a private, loopback, link-local or other non-public address */
  WEBHOOK_URL_PRIVATE_ADDRESS: 'WEBHOOK.URL_PRIVATE_ADDRESS',
  /** the host name does not resolve */
  WEBHOOK_URL_UNRESOLVABLE: 'WEBHOOK.URL_UNRESOLVABLE',
  // Generic HTTP
  VALIDATION_FAILED: 'REQUEST.VALIDATION_FAILED',
  /** a period longer than the route allows (trends: 120 months; platform lag: 92 days) */
  RANGE_TOO_LONG: 'REQUEST.RANGE_TOO_LONG',
  /** an export larger than its format holds (an .xlsx sheet: 1,048,575 rows) */
  EXPORT_TOO_LARGE: 'EXPORT.TOO_LARGE',
  /** a body that is not UTF-8, or a URL with U+0000 / unpaired surrogates */
  INVALID_ENCODING: 'REQUEST.INVALID_ENCODING',
  UNSUPPORTED_MEDIA_TYPE: 'REQUEST.UNSUPPORTED_MEDIA_TYPE',
  PAYLOAD_TOO_LARGE: 'REQUEST.PAYLOAD_TOO_LARGE',
  NOT_FOUND: 'REQUEST.NOT_FOUND',
  METHOD_NOT_ALLOWED: 'REQUEST.METHOD_NOT_ALLOWED',
  NOT_ACCEPTABLE: 'REQUEST.NOT_ACCEPTABLE',
  CONFLICT: 'REQUEST.CONFLICT',
  TOO_MANY_REQUESTS: 'REQUEST.TOO_MANY_REQUESTS',
  UNAUTHORIZED: 'AUTH.UNAUTHORIZED',
  FORBIDDEN: 'AUTH.FORBIDDEN',
  QUERY_TIMEOUT: 'QUERY.TIMEOUT',
  UNAVAILABLE: 'SERVICE.UNAVAILABLE',
  INTERNAL: 'SERVICE.INTERNAL_ERROR',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** One field-level problem: `path` is a dotted path into the envelope (`data.amount`). */
export interface FieldError {
  path: string;
  message: string;
}
