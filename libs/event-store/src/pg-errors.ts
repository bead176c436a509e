/** The SQLSTATE of a PostgreSQL error (node-postgres puts it in `code`), else undefined. */
function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/**
 * The database refused the content itself: a data exception (class 22: text it cannot
 * hold, a number out of range), a program limit (class 54: too large, too deep), or a NOT
 * NULL / CHECK constraint. Sending the same input again can never succeed.
 */
export function isDataError(err: unknown): boolean {
  const s = sqlState(err);
  return (
    s !== undefined && (s.startsWith('22') || s.startsWith('54') || s === '23502' || s === '23514')
  );
}

const UNREACHABLE_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);
const UNREACHABLE_MESSAGES = [
  'timeout exceeded when trying to connect', // pg-pool: no connection within connectionTimeoutMillis
  'Connection terminated',
  'connection error',
  'Cannot use a pool after calling end',
  'Client was closed and is not queryable',
  'terminating connection',
];

/**
 * The database cannot be reached, is starting or shutting down, or has no connection left
 * (connection exceptions 08, operator intervention 57P01–57P03, insufficient resources 53):
 * the same request can succeed later. HTTP answers 503 with Retry-After; Kafka retries.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  const s = sqlState(err);
  if (s !== undefined)
    return s.startsWith('08') || s.startsWith('53') || ['57P01', '57P02', '57P03'].includes(s);
  const e = err as { code?: unknown; message?: unknown } | null;
  if (typeof e?.code === 'string' && UNREACHABLE_ERRNOS.has(e.code)) return true;
  const message = typeof e?.message === 'string' ? e.message : '';
  return UNREACHABLE_MESSAGES.some((m) => message.includes(m));
}

/** Deadlock or serialization failure: the transaction rolled back and may simply run again. */
export function isTransientConflict(err: unknown): boolean {
  const s = sqlState(err);
  return s === '40P01' || s === '40001';
}
