/** A real HTTP receiver on the loopback for webhook tests: records every request, answers as told. */
import { createHmac, timingSafeEqual } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  path: string;
  deliveryId: string;
  signature: string;
  kind: string;
  attempt: number;
  raw: string;
  body: any;
  /** the status this receiver answered */
  answered: number;
  at: number;
}

export class WebhookReceiver {
  readonly received: Received[] = [];
  private server!: http.Server;
  /** the answer for a request (default 200); may be async (a slow receiver) */
  answer: (r: Omit<Received, 'answered' | 'at'>) => number | Promise<number> = () => 200;
  /** called after an answer was written (e.g. to kill the sender right after it) */
  afterAnswer: ((r: Received) => void) | null = null;

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        let body: any = null;
        try {
          body = JSON.parse(raw);
        } catch {
          body = null;
        }
        const r = {
          path: req.url ?? '',
          deliveryId: String(req.headers['x-delivery-id'] ?? ''),
          signature: String(req.headers['x-signature-256'] ?? ''),
          kind: String(req.headers['x-webhook-kind'] ?? ''),
          attempt: Number(req.headers['x-delivery-attempt'] ?? 0),
          raw,
          body,
        };
        void Promise.resolve(this.answer(r)).then((status) => {
          const rec = { ...r, answered: status, at: Date.now() };
          this.received.push(rec);
          res.writeHead(status, { 'content-type': 'text/plain' });
          res.end(status < 300 ? 'ok' : 'no');
          this.afterAnswer?.(rec);
        });
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', () => resolve()));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  at(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }
}

/** What a receiver does: HMAC-SHA256 of the raw body with the secret, compared in constant time. */
export function signatureValid(secret: string, raw: string, header: string): boolean {
  const want = Buffer.from(`sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`);
  const got = Buffer.from(header);
  return want.length === got.length && timingSafeEqual(want, got);
}

export async function until<T>(
  fn: () => T | Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() - start > timeoutMs)
      throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)?.slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
