import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { ErrorCodes, type ErrorCode } from '@app/contracts';

/** A webhook URL refused, with its stable code (at creation: 400; at delivery: the attempt's error). */
export class WebhookUrlRefused extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export const MAX_WEBHOOK_URL_LENGTH = 2048;

/** Ranges refused even with WEBHOOK_ALLOW_PRIVATE (nothing can answer there). */
const NEVER = new Set(['unspecified', 'multicast', 'broadcast']);

const bare = (hostname: string) => hostname.replace(/^\[(.*)\]$/, '$1');

/**
 * Whether a delivery may connect to `address`: for http only loopback addresses (tests and
 * local relays); for https only public unicast ones, unless `allowPrivate` (then anything
 * but unspecified, multicast and broadcast). IPv4-mapped IPv6 addresses count as IPv4.
 */
export function refusalOf(
  address: string,
  protocol: string,
  allowPrivate: boolean,
): WebhookUrlRefused | null {
  let range: string;
  try {
    range = ipaddr.process(address).range();
  } catch {
    return new WebhookUrlRefused(ErrorCodes.WEBHOOK_URL_INVALID, `not an IP address: ${address}`);
  }
  if (protocol === 'http:')
    return range === 'loopback'
      ? null
      : new WebhookUrlRefused(
          ErrorCodes.WEBHOOK_URL_NOT_HTTPS,
          `http:// is accepted to a loopback address only, not ${address}`,
        );
  if (range === 'unicast' || (allowPrivate && !NEVER.has(range))) return null;
  return new WebhookUrlRefused(
    ErrorCodes.WEBHOOK_URL_PRIVATE_ADDRESS,
    `the host is or resolves to a ${range} address (${address}): refused`,
  );
}

/**
 * The syntax of a webhook URL: absolute, https (http to `localhost` or a loopback address
 * only), no credentials, no fragment, at most 2,048 characters. An IP-literal host is checked
 * here; a name is checked when resolved (`checkWebhookUrl`, and at every delivery).
 */
export function parseWebhookUrl(raw: string, allowPrivate: boolean): URL {
  if (raw.length > MAX_WEBHOOK_URL_LENGTH)
    throw new WebhookUrlRefused(
      ErrorCodes.WEBHOOK_URL_INVALID,
      `the URL is longer than ${MAX_WEBHOOK_URL_LENGTH} characters`,
    );
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WebhookUrlRefused(ErrorCodes.WEBHOOK_URL_INVALID, 'not an absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new WebhookUrlRefused(
      ErrorCodes.WEBHOOK_URL_NOT_HTTPS,
      'only https:// URLs are accepted',
    );
  if (url.username || url.password)
    throw new WebhookUrlRefused(ErrorCodes.WEBHOOK_URL_INVALID, 'credentials in the URL');
  if (raw.includes('#'))
    throw new WebhookUrlRefused(ErrorCodes.WEBHOOK_URL_INVALID, 'a fragment in the URL');
  const host = bare(url.hostname);
  if (host === '') throw new WebhookUrlRefused(ErrorCodes.WEBHOOK_URL_INVALID, 'no host');
  if (isIP(host)) {
    const refused = refusalOf(host, url.protocol, allowPrivate);
    if (refused) throw refused;
  } else if (url.protocol === 'http:' && host !== 'localhost') {
    throw new WebhookUrlRefused(
      ErrorCodes.WEBHOOK_URL_NOT_HTTPS,
      'http:// is accepted to a loopback host only (localhost, 127.0.0.1, [::1]); use https://',
    );
  }
  return url;
}

function lookupAll(host: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) =>
    dnsLookup(host, { all: true, verbatim: true }, (err, addresses) =>
      err ? reject(err) : resolve(addresses),
    ),
  );
}

/**
 * At creation: the syntax, then every address the host resolves to (a name with one
 * private address among public ones is refused).
 */
export async function checkWebhookUrl(raw: string, allowPrivate: boolean): Promise<URL> {
  const url = parseWebhookUrl(raw, allowPrivate);
  const host = bare(url.hostname);
  if (isIP(host)) return url;
  let addresses: LookupAddress[];
  try {
    addresses = await lookupAll(host);
  } catch (err) {
    throw new WebhookUrlRefused(
      ErrorCodes.WEBHOOK_URL_UNRESOLVABLE,
      `the host ${host} does not resolve (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  for (const a of addresses) {
    const refused = refusalOf(a.address, url.protocol, allowPrivate);
    if (refused) throw refused;
  }
  return url;
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `lookup` for http(s).request that refuses, at connect time, an address a delivery may
 * not reach: the name is resolved when the delivery is made (it may point elsewhere than at
 * creation) and the socket connects only to an address that passed.
 */
export function guardedLookup(protocol: string, allowPrivate: boolean) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      for (const a of addresses) {
        const refused = refusalOf(a.address, protocol, allowPrivate);
        if (refused) return callback(Object.assign(refused, { errno: 0 }), []);
      }
      if (options.all) return callback(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };
}
