import { isUtf8 } from 'node:buffer';
import { ErrorCodes } from '@app/contracts';
import { MAX_REJECTED_PAYLOAD_CHARS } from '@app/event-store';
import bodyParser from 'body-parser';
import type { Request, Response } from 'express';
import { parseJsonBody } from './json-body';

/** The events body, parsed, or why the request is refused as a whole (and what to keep of it). */
export type EventsBody =
  | { ok: true; value: unknown }
  | {
      ok: false;
      statusCode: number;
      code: string;
      message: string;
      /** the start of the body as text, for audit (null when it was not read) */
      kept: string | null;
    };

const JSON_TYPES = ['application/json', 'application/*+json'];

/**
 * Reads POST /v1/events' body after authentication (so that only a platform's requests are
 * kept for audit): body-parser's raw reader (limit, Content-Encoding), then media type,
 * UTF-8 (invalid bytes are refused, never replaced with U+FFFD) and JSON, each with its code.
 */
export async function readEventsBody(
  req: Request,
  res: Response,
  limit: string,
): Promise<EventsBody> {
  let buf: Buffer;
  try {
    buf = await readRaw(req, res, limit);
  } catch (err) {
    const e = err as { status?: number; type?: string; message?: string; length?: number };
    if (e.type === 'entity.too.large')
      return refuse(
        413,
        ErrorCodes.PAYLOAD_TOO_LARGE,
        `request body too large (limit ${limit})`,
        null,
      );
    return refuse(
      typeof e.status === 'number' && e.status >= 400 && e.status < 500 ? e.status : 400,
      e.type === 'encoding.unsupported'
        ? ErrorCodes.UNSUPPORTED_MEDIA_TYPE
        : ErrorCodes.INVALID_PAYLOAD,
      `the request body could not be read: ${e.message ?? 'unknown error'}`,
      null,
    );
  }
  const kept = () => buf.subarray(0, MAX_REJECTED_PAYLOAD_CHARS + 1).toString('utf8');
  if (!req.is(JSON_TYPES))
    return refuse(
      415,
      ErrorCodes.UNSUPPORTED_MEDIA_TYPE,
      'send the events as application/json',
      kept(),
    );
  if (!isUtf8(buf))
    return refuse(400, ErrorCodes.INVALID_ENCODING, 'the request body is not valid UTF-8', kept());
  const parsed = await parseJsonBody(buf);
  if (!parsed.ok)
    return refuse(
      400,
      ErrorCodes.INVALID_JSON,
      `request body is not valid JSON: ${parsed.message}`,
      kept(),
    );
  return parsed;
}

function refuse(
  statusCode: number,
  code: string,
  message: string,
  kept: string | null,
): EventsBody {
  return { ok: false, statusCode, code, message, kept };
}

const parsers = new Map<string, ReturnType<typeof bodyParser.raw>>();

function readRaw(req: Request, res: Response, limit: string): Promise<Buffer> {
  let parse = parsers.get(limit);
  if (!parse) parsers.set(limit, (parse = bodyParser.raw({ type: () => true, limit })));
  return new Promise((resolve, reject) =>
    parse(req, res, (err?: unknown) =>
      err
        ? reject(err instanceof Error ? err : new Error('body-parser failed'))
        : resolve(bodyOf(req)),
    ),
  );
}

function bodyOf(req: Request): Buffer {
  const body: unknown = req.body;
  return Buffer.isBuffer(body) ? body : Buffer.alloc(0);
}
