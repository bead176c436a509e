import * as http from 'node:http';
import * as https from 'node:https';
import { isIP } from 'node:net';
import { guardedLookup, refusalOf, WebhookUrlRefused } from './webhook-url';

export interface SendResult {
  /** a 2xx answer: acknowledged */
  ok: boolean;
  statusCode: number | null;
  /** why not acknowledged (`HTTP 500`, `timeout after 10000 ms`, `ECONNREFUSED`, a WEBHOOK.* code) */
  error: string | null;
}

const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * One POST of a delivery: a fresh connection (no keep-alive: the name is resolved again, and
 * checked, every time), the whole exchange bounded by `timeoutMs`, redirects not followed
 * (a 3xx is not an acknowledgement), at most 64 KiB of the answer read.
 */
export function postWebhook(
  url: URL,
  body: string,
  headers: Record<string, string>,
  opts: { timeoutMs: number; allowPrivate: boolean },
): Promise<SendResult> {
  // an IP-literal host is connected to without a lookup: checked here
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const refused = isIP(host) ? refusalOf(host, url.protocol, opts.allowPrivate) : null;
  if (refused)
    return Promise.resolve({
      ok: false,
      statusCode: null,
      error: `${refused.code}: ${refused.message}`,
    });
  return new Promise((resolve) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined = undefined;
    const done = (r: SendResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const mod = url.protocol === 'https:' ? https : http;
    const req = mod.request(url, {
      method: 'POST',
      agent: false,
      lookup: guardedLookup(url.protocol, opts.allowPrivate),
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'content-length': String(Buffer.byteLength(body, 'utf8')),
        'user-agent': 'compliance-monitor-webhooks/1',
        ...headers,
      },
    });
    timer = setTimeout(() => {
      req.destroy(new Error(`timeout after ${opts.timeoutMs} ms`));
    }, opts.timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => {
      const error =
        err instanceof WebhookUrlRefused
          ? `${err.code}: ${err.message}`
          : err.message.startsWith('timeout')
            ? err.message
            : (err.code ?? err.message);
      done({ ok: false, statusCode: null, error });
    });
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      let read = 0;
      res.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read > MAX_ANSWER_BYTES) res.destroy();
      });
      const finish = () =>
        done({
          ok: status >= 200 && status < 300,
          statusCode: status,
          error: status >= 200 && status < 300 ? null : `HTTP ${status}`,
        });
      res.on('end', finish);
      res.on('close', finish);
      res.on('error', finish);
    });
    req.end(body);
  });
}
