import { MAX_EVENT_BYTES, OversizedValue } from '@app/contracts';

/**
 * An array element larger than this is not parsed at all (it is rejected as EVENT.TOO_LARGE
 * whatever it holds): one event is at most 64 KiB, and parsing megabytes of one element
 * would hold the event loop.
 */
export const MAX_PARSED_ELEMENT_BYTES = 16 * MAX_EVENT_BYTES;
/** Longest stretch of synchronous work (parsing, validating) between two yields to the event loop. */
const SLICE_MS = 10;

export type JsonBody = { ok: true; value: unknown } | { ok: false; message: string };

/** Lets other callbacks (other requests, /health) run before the next slice of work. */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Measures a stretch of synchronous work: `due()` once {@link SLICE_MS} have passed since the
 * last `yield()`. Slices by time, not by a count of items: one event of 6,000 keys costs as
 * much to validate as a thousand small ones, and a count sized for the small ones held the
 * event loop for a tenth of a second per slice (hostile-input's 59 MB body).
 */
export class WorkSlice {
  private start = Date.now();
  due(): boolean {
    return Date.now() - this.start >= SLICE_MS;
  }
  async yield(): Promise<void> {
    await yieldToEventLoop();
    this.start = Date.now();
  }
}

// bytes of JSON's structure; UTF-8 continuation and lead bytes are all ≥ 0x80, so a byte
// scan never mistakes part of a multi-byte character for one of these
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN = new Set([0x5b, 0x7b]); // [ {
const CLOSE = new Set([0x5d, 0x7d]); // ] }
const isSpace = (b: number) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

/**
 * JSON.parse of a UTF-8 body, the same answer for every input, but a top-level array is
 * parsed element by element with yields in between: a 70 MB batch of 1,000 events costs
 * seconds of JSON.parse, which must not stall /health and every other request meanwhile.
 * Elements over {@link MAX_PARSED_ELEMENT_BYTES} become {@link OversizedValue}s.
 */
export async function parseJsonBody(buf: Buffer): Promise<JsonBody> {
  let start = 0;
  if (buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) start = 3; // BOM
  while (start < buf.length && isSpace(buf[start])) start++;
  if (buf[start] !== 0x5b) return parseWhole(buf.subarray(start));
  const out: unknown[] = [];
  let i = start + 1;
  const slice = new WorkSlice();
  const skipSpace = () => {
    while (i < buf.length && isSpace(buf[i])) i++;
  };
  skipSpace();
  if (buf[i] === 0x5d) return trailing(buf, i + 1, out);
  for (;;) {
    const from = i;
    const to = elementEnd(buf, i);
    if (to < 0) return malformed(from);
    if (to - from > MAX_PARSED_ELEMENT_BYTES) {
      out.push(new OversizedValue(to - from));
    } else {
      const part = parseWhole(buf.subarray(from, to));
      if (!part.ok) return part;
      out.push(part.value);
    }
    i = to;
    skipSpace();
    if (buf[i] === COMMA) {
      i++;
      skipSpace();
    } else if (buf[i] === 0x5d) {
      return trailing(buf, i + 1, out);
    } else {
      return malformed(i);
    }
    if (slice.due()) await slice.yield();
  }
}

function malformed(at: number): JsonBody {
  return { ok: false, message: `unexpected end or character in the array at byte ${at}` };
}

function parseWhole(buf: Buffer): JsonBody {
  try {
    return { ok: true, value: JSON.parse(buf.toString('utf8')) };
  } catch (err) {
    return { ok: false, message: (err as Error).message.slice(0, 200) };
  }
}

/** After the closing bracket only whitespace may follow. */
function trailing(buf: Buffer, i: number, value: unknown[]): JsonBody {
  while (i < buf.length && isSpace(buf[i])) i++;
  return i === buf.length
    ? { ok: true, value }
    : { ok: false, message: `Unexpected non-whitespace character after JSON at position ${i}` };
}

/**
 * The end (exclusive) of the JSON value starting at `i`: a string, an object or array
 * (brackets balanced outside strings), or a scalar up to the next comma or closing bracket.
 * -1 when the body ends first or brackets do not match. The value itself is checked by
 * JSON.parse.
 */
function elementEnd(buf: Buffer, i: number): number {
  const first = buf[i];
  if (first === QUOTE) return stringEnd(buf, i);
  if (!OPEN.has(first)) {
    while (i < buf.length && buf[i] !== COMMA && !CLOSE.has(buf[i]) && !isSpace(buf[i])) i++;
    return i < buf.length ? i : -1;
  }
  const stack: number[] = [];
  while (i < buf.length) {
    const b = buf[i];
    if (b === QUOTE) {
      i = stringEnd(buf, i);
      if (i < 0) return -1;
      continue;
    }
    if (OPEN.has(b)) stack.push(b === 0x5b ? 0x5d : 0x7d);
    else if (CLOSE.has(b) && stack.pop() !== b) return -1;
    i++;
    if (stack.length === 0) return i;
  }
  return -1;
}

/** The end (exclusive) of the string starting with the quote at `i`, or -1. */
function stringEnd(buf: Buffer, i: number): number {
  for (i++; i < buf.length; i++) {
    const b = buf[i];
    if (b === BACKSLASH) i++;
    else if (b === QUOTE) return i + 1;
  }
  return -1;
}
