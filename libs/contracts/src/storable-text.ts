/**
 * Text that PostgreSQL cannot store: U+0000 (neither `text` nor `jsonb` holds it) and lone
 * UTF-16 surrogates (not Unicode scalar values: `jsonb` refuses their escapes, and the driver
 * would silently turn them into U+FFFD in `text`). Events carrying such text are rejected with
 * EVENT.INVALID_TEXT; the audit trail keeps them escaped with {@link storableText}.
 */
// eslint-disable-next-line no-control-regex -- U+0000 is exactly what is looked for
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const UNSTORABLE_ALL = new RegExp(UNSTORABLE.source, 'g');

/** True when `s` holds a character PostgreSQL cannot store (see above). */
export function hasUnstorableText(s: string): boolean {
  return UNSTORABLE.test(s);
}

/**
 * `s` with every unstorable character written as its JSON escape (`\u0000`, `\ud800`), so that
 * what was received can be kept for audit and read back unambiguously.
 */
export function storableText(s: string): string {
  return UNSTORABLE.test(s)
    ? s.replace(UNSTORABLE_ALL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    : s;
}

/** A JSON-like value with every string (and key) made storable; never throws on cycles. */
export function storableValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return storableText(value);
  if (value === null || typeof value !== 'object' || depth > 32) return value;
  if (Array.isArray(value)) return value.map((v) => storableValue(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[storableText(k)] = storableValue(v, depth + 1);
  return out;
}
