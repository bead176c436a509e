import { finished } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import type { PoolClient } from 'pg';

const COPY_SPECIAL = /[\\\t\n\r]/;
const COPY_SPECIAL_ALL = /[\\\t\n\r]/g;
const COPY_ESCAPES: Record<string, string> = {
  '\\': '\\\\',
  '\t': '\\t',
  '\n': '\\n',
  '\r': '\\r',
};

/**
 * Characters per piece of a COPY's text: one string per statement (megabytes) would live in
 * V8's large-object space until the next full collection; at thousands of rows a second those
 * strings, not live data, would set the process's peak RSS. Below that space's threshold even
 * as UTF-16.
 */
export const COPY_CHUNK_CHARS = 32_000;

/** A value in COPY's text format (backslash, tab, newline and carriage return escaped). */
export function copyText(s: string): string {
  return COPY_SPECIAL.test(s) ? s.replace(COPY_SPECIAL_ALL, (ch) => COPY_ESCAPES[ch]) : s;
}

/**
 * Runs `COPY … FROM STDIN` (text format) on the caller's connection, in its transaction, with
 * `lines` (each ending in a newline), sent in pieces of about COPY_CHUNK_CHARS. The lines are
 * all taken before the COPY begins, so an error while making them sends nothing.
 */
export async function copyIn(
  c: Pick<PoolClient, 'query'>,
  statement: string,
  lines: Iterable<string>,
): Promise<void> {
  const pieces: string[] = [];
  let text = '';
  for (const line of lines) {
    text += line;
    if (text.length >= COPY_CHUNK_CHARS) {
      pieces.push(text);
      text = '';
    }
  }
  if (text.length > 0) pieces.push(text);
  // written at once, not through stream.pipeline: its AbortController, aborted at every
  // finish, made a DOMException with a stack trace per COPY
  const copy = c.query(copyFrom(statement));
  for (const piece of pieces) copy.write(piece);
  copy.end();
  await finished(copy);
}
