/**
 * No input makes the service answer 5xx (issue #10): a seeded fuzz run of hostile bodies and
 * query strings against every kind of route, on the real application and PostgreSQL. Bounded:
 * a fixed number of requests, sequential, each with its own timeout.
 */
import * as http from 'node:http';
import fc from 'fast-check';
import { ev } from '@app/testing';
import { startTestApp, type TestApp } from '../support/test-app';
import { auth } from '../support/auth';

const SEED = 20261201;
const BODIES = 1200;
const QUERIES = 1000;

/** Sends raw bytes; resolves with the status (0 when the connection failed). */
function send(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: Buffer,
): Promise<number> {
  const u = new URL(base);
  return new Promise((resolve) => {
    const req = http.request(
      { host: u.hostname, port: u.port, path, method, headers, timeout: 10_000 },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

// text a database or a parser may choke on
const nasty = fc.constantFrom(
  '\u0000',
  '\ud800',
  '\udfff',
  '\ud83d\ude00',
  '\uffff',
  '\u202e',
  "'; DROP TABLE events; --",
  '%00',
  '../../etc/passwd',
  '__proto__',
  'constructor',
  '9'.repeat(400),
  '1e400',
  '-0',
  'null',
  '中文',
  '\\',
  '"',
);
const nastyString = fc
  .tuple(fc.string({ maxLength: 20 }), nasty, fc.string({ maxLength: 20 }))
  .map(([a, b, c]) => a + b + c);
const leaf = fc.oneof(
  nastyString,
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
);
const value = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: 'small' },
    leaf,
    fc.array(tie('node'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.string({ maxLength: 8 }), nastyString), tie('node'), {
      maxKeys: 4,
    }),
  ),
})).node;

/** A valid envelope with one field replaced by something hostile. */
const mutatedEnvelope = fc
  .tuple(
    fc.constantFrom(
      () => ev.award('CQ-FUZZ-1', '2021-09-13'),
      () => ev.signed('CQ-FUZZ-1', '2021-09-20'),
      () => ev.invoice('CQ-FUZZ-1', '2021-10-01', 'INV-1', '100.00'),
      () => ev.payment('CQ-FUZZ-1', '2021-10-02', 'P-1', '100.00', 'progress', 'INV-1'),
      () => ev.terminated('CQ-FUZZ-1', '2021-10-03'),
    ),
    fc.constantFrom(
      'eventId',
      'type',
      'contractId',
      'occurredAt',
      'schemaVersion',
      'correlationId',
      'data',
      'data.amount',
      'data.reason',
      'data.supplier',
      'data.purchasingUnit.code',
      'data.extra',
    ),
    value,
  )
  .map(([make, path, v]) => {
    const e = JSON.parse(JSON.stringify(make())) as Record<string, unknown>;
    const keys = path.split('.');
    let o: Record<string, unknown> = e;
    for (const k of keys.slice(0, -1)) {
      if (typeof o[k] !== 'object' || o[k] === null) o[k] = {};
      o = o[k] as Record<string, unknown>;
    }
    o[keys[keys.length - 1]] = v;
    return e;
  });

const bodyBytes = fc.oneof(
  mutatedEnvelope.map((e) => Buffer.from(JSON.stringify(e))),
  fc
    .array(mutatedEnvelope, { minLength: 1, maxLength: 5 })
    .map((a) => Buffer.from(JSON.stringify(a))),
  value.map((v) => Buffer.from(JSON.stringify(v) ?? 'undefined')),
  fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
  // valid JSON text with invalid UTF-8 bytes spliced in
  fc
    .tuple(mutatedEnvelope, fc.uint8Array({ minLength: 1, maxLength: 4 }), fc.nat())
    .map(([e, bytes, at]) => {
      const text = Buffer.from(JSON.stringify(e));
      const i = at % text.length;
      return Buffer.concat([
        text.subarray(0, i),
        Buffer.from(bytes.map((b) => b | 0x80)),
        text.subarray(i),
      ]);
    }),
  fc.string().map((s) => Buffer.from(`[${s}`)),
);

const routes = [
  { method: 'POST', path: '/v1/events', role: 'platform' as const },
  { method: 'POST', path: '/v1/contracts/CQ-FUZZ-1/exemptions', role: 'inspector' as const },
  { method: 'PUT', path: '/v1/admin/calendar/2031', role: 'admin' as const },
];
const contentTypes = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'application/vnd.api+json',
  'text/plain',
  'application/x-www-form-urlencoded',
  '',
);

const segment = fc.oneof(
  fc.string({ maxLength: 30 }).map(encodeURIComponent),
  nastyString.map((s) => {
    try {
      return encodeURIComponent(s);
    } catch {
      return '%ED%A0%80'; // a lone surrogate cannot be encoded: send its UTF-8-like bytes
    }
  }),
  fc.constantFrom('%00', '%ED%A0%80', '%FF', '%', '%zz', '..', '%2F', 'a'.repeat(300)),
);
const queryString = fc
  .array(
    fc.tuple(
      fc.oneof(
        fc.constantFrom(
          'asOf',
          'from',
          'to',
          'unit',
          'rule',
          'status',
          'page',
          'pageSize',
          'sort',
          'region',
        ),
        segment,
      ),
      segment,
    ),
    { maxLength: 4 },
  )
  .map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join('&'));
const getPaths = fc
  .tuple(
    fc.constantFrom(
      (s: string) => `/v1/units/${s}/compliance`,
      (s: string) => `/v1/contracts/${s}`,
      (s: string) => `/v1/contracts/${s}/events`,
      (s: string) => `/v1/suppliers/${s}/payments`,
      () => '/v1/units',
      () => '/v1/violations',
      () => '/v1/admin/projections',
      () => '/v1/admin/calendar',
      () => '/health',
      () => '/metrics',
    ),
    segment,
    queryString,
    fc.constantFrom<'inspector' | 'supplier' | 'admin' | 'platform'>(
      'inspector',
      'supplier',
      'admin',
      'platform',
    ),
    fc.constantFrom('application/json', 'text/csv', '*/*'),
  )
  .map(([make, s, q, role, accept]) => ({ path: `${make(s)}${q ? `?${q}` : ''}`, role, accept }));

describe('fuzz: no input answers 5xx (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
    // a contract to aim at
    await send(
      t.url,
      'POST',
      '/v1/events',
      { ...auth('platform'), 'content-type': 'application/json' },
      Buffer.from(
        JSON.stringify([ev.award('CQ-FUZZ-1', '2021-09-13'), ev.signed('CQ-FUZZ-1', '2021-09-20')]),
      ),
    );
  });
  afterAll(async () => {
    await t?.close();
  });

  it(`${BODIES} hostile bodies on the write routes: every answer is a 2xx or 4xx`, async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        contentTypes,
        bodyBytes,
        async (route, type, body) => {
          const headers: Record<string, string> = { ...auth(route.role) };
          if (type) headers['content-type'] = type;
          const status = await send(t.url, route.method, route.path, headers, body);
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          expect(status).toBeGreaterThanOrEqual(200);
          expect(status).toBeLessThan(500);
        },
      ),
      { numRuns: BODIES, seed: SEED, endOnFailure: true },
    );
    console.log(`[fuzz] bodies by status: ${JSON.stringify(Object.fromEntries(statuses))}`);
  }, 300_000);

  it(`${QUERIES} hostile paths and query strings on the read routes: every answer is a 2xx or 4xx`, async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(getPaths, async ({ path, role, accept }) => {
        const status = await send(t.url, 'GET', path, { ...auth(role), accept });
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        expect(status).toBeGreaterThanOrEqual(200);
        expect(status).toBeLessThan(500);
      }),
      { numRuns: QUERIES, seed: SEED + 1, endOnFailure: true },
    );
    console.log(`[fuzz] queries by status: ${JSON.stringify(Object.fromEntries(statuses))}`);
  }, 300_000);
});
