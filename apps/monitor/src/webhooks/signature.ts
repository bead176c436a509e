import { createHmac } from 'node:crypto';

/** `X-Signature-256`: `sha256=` and the hex HMAC-SHA256 of the raw body under the subscription's secret. */
export function signatureOf(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}
