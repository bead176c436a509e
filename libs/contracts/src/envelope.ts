import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { plainToInstance } from 'class-transformer';
import {
  IsInt,
  IsObject,
  isObject,
  isString,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  MaxLength,
  validateSync,
  type ValidationError,
} from 'class-validator';
import { ErrorCodes, type ErrorCode, type FieldError } from './error-codes';
import {
  CONTRACT_ID_PATTERN,
  EVENT_TYPES,
  MAX_CORRELATION_ID_LENGTH,
  MAX_EVENT_BYTES,
  MAX_FUTURE_SKEW_MS,
  MIN_OCCURRED_AT,
  isEventType,
  type EventType,
} from './event-types';
import { PAYLOAD_CLASSES } from './event-payloads';
import {
  PAYLOAD_CHECKS,
  conforms,
  optional,
  pattern,
  required,
  shape,
  text,
  uuid,
  type Tally,
} from './payload-checks';
import { IsOffsetDateTime, parseOffsetDateTime } from './validators';
import { hasUnstorableText } from './storable-text';

/** The public event envelope of SPEC §2, identical on Kafka and HTTP. */
export class EventEnvelopeDto {
  @ApiProperty({ format: 'uuid', description: 'idempotency key, stored once forever' })
  @IsUUID()
  eventId!: string;

  @ApiProperty({ enum: EVENT_TYPES })
  @IsString()
  type!: EventType;

  @ApiProperty({ example: 'CQ-FL-2021-000123', pattern: CONTRACT_ID_PATTERN.source })
  @Matches(CONTRACT_ID_PATTERN, {
    message: 'contractId must be 1-64 characters of [A-Za-z0-9._:/-]',
  })
  contractId!: string;

  @ApiProperty({ example: '2021-09-30T15:20:00+08:00', description: 'business time, with offset' })
  @IsOffsetDateTime()
  occurredAt!: string;

  @ApiProperty({ example: 1, enum: [1] })
  @IsInt()
  schemaVersion!: number;

  @ApiPropertyOptional({ maxLength: MAX_CORRELATION_ID_LENGTH })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_CORRELATION_ID_LENGTH)
  correlationId?: string;

  @ApiProperty({ type: 'object', additionalProperties: true, description: 'per type, SPEC §2' })
  @IsOptional()
  @IsObject()
  data?: Record<string, unknown>;
}

/**
 * Stands for an element of a batch too large to be parsed at all (the HTTP door does not
 * parse megabytes of one element): rejected as EVENT.TOO_LARGE.
 */
export class OversizedValue {
  constructor(readonly bytes: number) {}
}

/** A well-formed event, ready for the decider. */
export interface ValidatedEvent {
  eventId: string;
  type: EventType;
  contractId: string;
  occurredAt: string;
  /** epoch milliseconds of `occurredAt` */
  occurredAtMs: number;
  schemaVersion: number;
  correlationId?: string;
  data: Record<string, unknown>;
}

export type ParseResult =
  | { ok: true; event: ValidatedEvent }
  | { ok: false; eventId?: string; code: ErrorCode; message: string; errors: FieldError[] };

/** No field of ours nests deeper than this (envelope → data → supplier → creditCode). */
export const MAX_DEPTH = 8;
/**
 * No event of ours has more properties than this (the award, the largest, has about 20):
 * past it the event is refused before the validator would list every unknown key.
 */
export const MAX_PROPERTIES = 100;
/** Field errors kept per rejected event; one more entry says how many were left out. */
export const MAX_ERRORS_PER_EVENT = 20;
const MAX_ERROR_TEXT = 200;
/** Keys that could reach Object.prototype through copies, and are never field names of ours. */
const FORBIDDEN_KEYS = new Set(Object.getOwnPropertyNames(Object.prototype).concat(['prototype']));

/** A problem found by {@link inspectShape}, with the code it is rejected with. */
export interface ShapeProblem extends FieldError {
  code: ErrorCode;
}

/** A dotted path for messages, cut to a readable length (keys can be kilobytes long). */
function pathText(path: string[]): string {
  return clip(path.join('.'));
}

function clip(s: string): string {
  return s.length > MAX_ERROR_TEXT ? `${s.slice(0, MAX_ERROR_TEXT - 1)}…` : s;
}

/**
 * Walks a parsed JSON value without recursion: rejects nesting deeper than any event can
 * have (so nothing later overflows the stack), more properties than any event has (so the
 * validator never lists thousands of unknown keys), keys named like Object.prototype members
 * (`__proto__`, `constructor`, `hasOwnProperty`…), which would slip past a whitelist, and
 * text PostgreSQL cannot store (U+0000, lone surrogates) in any key or string.
 */
export function inspectShape(raw: unknown): { problem?: ShapeProblem; maxBytes: number } {
  // paths are built only for a problem: most events have none
  const stack: Array<[unknown, string[], number]> = [[raw, [], 0]];
  // an upper bound of the UTF-8 JSON size: 3 bytes per UTF-16 unit covers escapes of
  // printable text; control characters (6 bytes as \u00XX) are counted by the exact check
  let maxBytes = 0;
  let properties = 0;
  const invalid = (message: string, path: string[]) => ({
    problem: { code: ErrorCodes.INVALID_PAYLOAD, path: pathText(path), message },
    maxBytes,
  });
  const badText = (path: string[]) => ({
    problem: {
      code: ErrorCodes.INVALID_TEXT,
      path: pathText(path),
      message: 'contains U+0000 or an unpaired surrogate, which cannot be stored',
    },
    maxBytes,
  });
  while (stack.length > 0) {
    const [value, path, depth] = stack.pop()!;
    if (typeof value === 'string') {
      if (hasUnstorableText(value)) return badText(path);
      maxBytes += value.length * 6 + 2;
      continue;
    }
    if (value === null || typeof value !== 'object') {
      maxBytes += 24;
      continue;
    }
    if (depth >= MAX_DEPTH) return invalid(`nested deeper than ${MAX_DEPTH} levels`, path);
    maxBytes += 2;
    for (const key in value) {
      if (FORBIDDEN_KEYS.has(key))
        return invalid(`property ${clip(key)} should not exist`, [...path, key]);
      if (hasUnstorableText(key)) return badText([...path, key]);
      if (++properties > MAX_PROPERTIES)
        return invalid(`an event has at most ${MAX_PROPERTIES} properties`, path);
      maxBytes += key.length * 6 + 4;
      stack.push([(value as Record<string, unknown>)[key], [...path, key], depth + 1]);
    }
  }
  return { maxBytes };
}

/** At most {@link MAX_ERRORS_PER_EVENT} errors, texts clipped, then how many were left out. */
export function capErrors(errors: FieldError[]): FieldError[] {
  const kept = errors
    .slice(0, MAX_ERRORS_PER_EVENT)
    .map((e) => ({ path: clip(e.path), message: clip(e.message) }));
  if (errors.length > MAX_ERRORS_PER_EVENT)
    kept.push({
      path: '',
      message: `${errors.length - MAX_ERRORS_PER_EVENT} more errors not listed`,
    });
  return kept;
}

const NESTED_PAYLOADS = new Set<EventType>(['AwardNoticeIssued']);

const VALIDATOR_OPTIONS = {
  whitelist: true,
  forbidNonWhitelisted: true,
  forbidUnknownValues: false, // payload classes without fields (ContractFiled) are valid
  validationError: { target: false, value: false },
} as const;

function flatten(errors: ValidationError[], prefix: string, out: FieldError[]): FieldError[] {
  for (const e of errors) {
    const path = prefix ? `${prefix}.${e.property}` : e.property;
    for (const message of Object.values(e.constraints ?? {})) out.push({ path, message });
    if (e.children?.length) flatten(e.children, path, out);
  }
  return out;
}

function fail(code: ErrorCode, message: string, errors: FieldError[], raw?: unknown): ParseResult {
  const id = (raw as { eventId?: unknown } | undefined)?.eventId;
  return {
    ok: false,
    eventId: typeof id === 'string' ? id.slice(0, 100) : undefined,
    code,
    message,
    errors,
  };
}

/** EventEnvelopeDto as checks; `data` is checked by its type's payload, `occurredAt` after. */
export const ENVELOPE_CHECKS = shape({
  eventId: required(uuid),
  type: required(isEventType),
  contractId: required(pattern(CONTRACT_ID_PATTERN)),
  occurredAt: required(isString),
  schemaVersion: required((v) => v === 1),
  correlationId: optional(text(MAX_CORRELATION_ID_LENGTH)),
  data: optional(isObject),
});

/**
 * Everything of an event that passes but its free text is short (known keys, codes of at
 * most 64 characters, amounts, dates): a few hundred bytes of JSON. Free text takes at most
 * 6 bytes of JSON per UTF-16 unit (`\u00XX`): below this many units of it an event cannot
 * reach MAX_EVENT_BYTES; above, the exact size is measured, as the classes path does.
 */
const TEXT_UNITS_WITHOUT_SIZE_CHECK = MAX_EVENT_BYTES / 2 / 6;

function validatedEvent(
  obj: Record<string, unknown>,
  occurredAtMs: number,
  data: Record<string, unknown>,
): ValidatedEvent {
  return {
    eventId: (obj.eventId as string).toLowerCase(),
    type: obj.type as EventType,
    contractId: obj.contractId as string,
    occurredAt: obj.occurredAt as string,
    occurredAtMs,
    schemaVersion: obj.schemaVersion as number,
    correlationId: obj.correlationId as string | undefined,
    data,
  };
}

/**
 * The fast path: the event {@link parseEnvelopeWithClasses} accepts `raw` as, checked by
 * plain functions (payload-checks.ts) in a few microseconds; null when it might not accept
 * it. Every shape, text and size rule of that path holds here too: only known keys (so no
 * Object.prototype names, no deep nesting, few properties), storable free text, the size
 * limit.
 */
export function fastValidEvent(raw: unknown, now: number): ValidatedEvent | null {
  const tally: Tally = { text: 0 };
  if (!conforms(raw, ENVELOPE_CHECKS, tally)) return null;
  const obj = raw as Record<string, unknown>;
  const data = (obj.data ?? {}) as Record<string, unknown>;
  if (!conforms(data, PAYLOAD_CHECKS[obj.type as EventType], tally)) return null;
  const occurredAtMs = parseOffsetDateTime(obj.occurredAt);
  if (
    occurredAtMs === null ||
    occurredAtMs < MIN_OCCURRED_AT ||
    occurredAtMs > now + MAX_FUTURE_SKEW_MS
  )
    return null;
  if (
    tally.text > TEXT_UNITS_WITHOUT_SIZE_CHECK &&
    Buffer.byteLength(JSON.stringify(raw), 'utf8') > MAX_EVENT_BYTES
  )
    return null;
  return validatedEvent(obj, occurredAtMs, data);
}

/**
 * Validates one raw envelope (already JSON-parsed) with the shared classes. `now` is
 * passed in so that the future check is testable. Returns field paths on failure.
 * A valid event takes the fast path ({@link fastValidEvent}); the classes say why one is not.
 */
export function parseEnvelope(raw: unknown, now: number): ParseResult {
  const event = fastValidEvent(raw, now);
  return event ? { ok: true, event } : parseEnvelopeWithClasses(raw, now);
}

/**
 * parseEnvelope with class-validator only (the reference the fast path is tested against):
 * ~50 µs an event, but it lists every field error.
 */
export function parseEnvelopeWithClasses(raw: unknown, now: number): ParseResult {
  if (raw instanceof OversizedValue) {
    return fail(
      ErrorCodes.EVENT_TOO_LARGE,
      `event is ${raw.bytes} bytes; the limit is ${MAX_EVENT_BYTES}`,
      [{ path: '', message: `must be at most ${MAX_EVENT_BYTES} bytes` }],
    );
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return fail(ErrorCodes.INVALID_PAYLOAD, 'an event must be a JSON object', [
      { path: '', message: 'must be an object' },
    ]);
  }
  const shape = inspectShape(raw);
  if (shape.problem) {
    const { code, path, message } = shape.problem;
    return fail(
      code,
      code === ErrorCodes.INVALID_TEXT
        ? 'the event holds text that cannot be stored'
        : 'the event is not valid',
      [{ path, message }],
      raw,
    );
  }
  // exact size only when the cheap upper bound says it might be too large
  const size =
    shape.maxBytes <= MAX_EVENT_BYTES ? 0 : Buffer.byteLength(JSON.stringify(raw), 'utf8');
  if (size > MAX_EVENT_BYTES) {
    return fail(
      ErrorCodes.EVENT_TOO_LARGE,
      `event is ${size} bytes; the limit is ${MAX_EVENT_BYTES}`,
      [{ path: '', message: `must be at most ${MAX_EVENT_BYTES} bytes` }],
      raw,
    );
  }
  const obj = raw as Record<string, unknown>;
  // The envelope's own fields are flat: an instance over a shallow copy is enough for
  // class-validator (plainToInstance would deep-copy `data` too, the hot spot of ingestion).
  const envelope: EventEnvelopeDto = Object.assign(new EventEnvelopeDto(), obj, {
    data: undefined,
  });
  if (
    obj.data !== undefined &&
    (obj.data === null || typeof obj.data !== 'object' || Array.isArray(obj.data))
  ) {
    envelope.data = obj.data as Record<string, unknown>;
  }
  const errors = flatten(validateSync(envelope, VALIDATOR_OPTIONS), '', []);

  const type = obj.type;
  if (typeof type === 'string' && !isEventType(type)) {
    return fail(
      ErrorCodes.UNKNOWN_TYPE,
      `unknown event type "${type.slice(0, 80)}"`,
      [{ path: 'type', message: `must be one of ${EVENT_TYPES.join(', ')}` }],
      raw,
    );
  }
  if (typeof type !== 'string' && !errors.some((e) => e.path === 'type')) {
    errors.push({ path: 'type', message: `type must be one of ${EVENT_TYPES.join(', ')}` });
  }

  const dataRaw = obj.data ?? {};
  if (
    isEventType(type) &&
    dataRaw !== null &&
    typeof dataRaw === 'object' &&
    !Array.isArray(dataRaw)
  ) {
    const cls = PAYLOAD_CLASSES[type];
    // Only the award has nested objects that need class-transformer's @Type conversion.
    const payload = NESTED_PAYLOADS.has(type)
      ? plainToInstance(cls, dataRaw)
      : Object.assign(new cls(), dataRaw);
    flatten(validateSync(payload, VALIDATOR_OPTIONS), 'data', errors);
  } else if (
    obj.data !== undefined &&
    (dataRaw === null || typeof dataRaw !== 'object' || Array.isArray(dataRaw))
  ) {
    if (!errors.some((e) => e.path === 'data'))
      errors.push({ path: 'data', message: 'data must be an object' });
  }

  if (
    typeof obj.schemaVersion === 'number' &&
    Number.isInteger(obj.schemaVersion) &&
    obj.schemaVersion !== 1
  ) {
    if (errors.length === 0) {
      return fail(
        ErrorCodes.UNSUPPORTED_SCHEMA_VERSION,
        `schemaVersion ${obj.schemaVersion} is not supported`,
        [{ path: 'schemaVersion', message: 'schemaVersion must be 1' }],
        raw,
      );
    }
    errors.push({ path: 'schemaVersion', message: 'schemaVersion must be 1' });
  }

  const occurredAtMs = parseOffsetDateTime(obj.occurredAt);
  if (occurredAtMs !== null && occurredAtMs < MIN_OCCURRED_AT) {
    errors.push({ path: 'occurredAt', message: 'occurredAt must be on or after 2000-01-01' });
  }
  if (errors.length > 0) {
    return fail(ErrorCodes.INVALID_PAYLOAD, 'the event is not valid', capErrors(errors), raw);
  }
  if (occurredAtMs! > now + MAX_FUTURE_SKEW_MS) {
    return fail(
      ErrorCodes.OCCURRED_IN_FUTURE,
      'occurredAt is in the future',
      [{ path: 'occurredAt', message: 'occurredAt must not be later than now + 5 minutes' }],
      raw,
    );
  }
  return {
    ok: true,
    event: validatedEvent(obj, occurredAtMs!, dataRaw as Record<string, unknown>),
  };
}
