/**
 * Who may do what (issue "Who may do what", SPEC §1 and §4): bearer tokens on every /v1
 * route, roles, data scopes (supplier, region-limited inspector), no existence leak, the
 * platform stamped on its events, rate limits and security headers, on the real application.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { exportSPKI, generateKeyPair, SignJWT, UnsecuredJWT, type CryptoKey } from 'jose';
import request from 'supertest';
import type { Role } from '@app/platform';
import { creditCode, ev, type Envelope } from '@app/testing';
import { bearer, TEST_JWT_SECRET, tokenFor, type Claims } from '../support/auth';
import { startTestApp, type TestApp } from '../support/test-app';

const ROLES: Role[] = ['platform', 'inspector', 'supplier', 'admin'];
const STABLE_CODE = /^[A-Z]+(\.[A-Z_]+)+$/;
const AS_OF = '2021-12-31';

const PLATFORM_ID = 'gov-cq-fl';
const SUPPLIER_A = creditCode(101);
const SUPPLIER_B = creditCode(102);
const NOBODY = creditCode(999); // a valid credit code that no contract names
const REGION_X = '500102';
const REGION_Y = '500230';
const UNIT_X = { code: 'U-AUTH-X', name: '涪陵区教育委员会', region: REGION_X };
const UNIT_Y = { code: 'U-AUTH-Y', name: '丰都县卫生健康委员会', region: REGION_Y };
const C_AX = 'AUTH-A-X-1'; // supplier A, region X
const C_BY = 'AUTH-B-Y-1'; // supplier B, region Y
const C_NONE = 'AUTH-DOES-NOT-EXIST';
const NO_WEBHOOK = '00000000-0000-4000-8000-000000000000';

const now = () => Math.floor(Date.now() / 1000);
const enc = (s: string) => new TextEncoder().encode(s);

/** The error shape of SPEC §4, with a given status and code. */
function expectError(res: request.Response, statusCode: number, code: string): void {
  expect({ status: res.status, code: res.body?.code }).toEqual({ status: statusCode, code });
  expect(res.body).toEqual({
    statusCode,
    code,
    message: expect.any(String),
    correlationId: expect.any(String),
  });
}

/** A 404 answer stripped of what legitimately differs (the id in the message, the correlation id). */
function leakFree(res: request.Response, id: string) {
  return {
    status: res.status,
    keys: Object.keys(res.body).sort(),
    code: res.body.code,
    message: String(res.body.message).replace(id, '<id>'),
    contentType: res.headers['content-type'],
  };
}

describe('authentication and authorization (e2e)', () => {
  let t: TestApp;
  const seeded: Envelope[] = [];
  const tokens = {} as Record<Role, string>;
  let supplierA: string;
  let supplierB: string;
  let inspectorX: string;

  const get = (p: string, token?: string) => {
    const r = request(t.url).get(p);
    return token ? r.set(bearer(token)) : r;
  };
  const postEvents = (body: unknown, token = tokens.platform) =>
    request(t.url)
      .post('/v1/events')
      .set(bearer(token))
      .send(body as object);

  beforeAll(async () => {
    t = await startTestApp({
      env: { JWT_SECRET: TEST_JWT_SECRET, ROLE_PROJECTOR: 'true', PROJECTOR_IDLE_MS: '50' },
    });
    tokens.platform = await tokenFor('platform', {
      platformId: PLATFORM_ID,
      sub: 'platform-robot',
    });
    tokens.inspector = await tokenFor('inspector');
    tokens.supplier = supplierA = await tokenFor('supplier', {
      creditCode: SUPPLIER_A,
      sub: 'supplier-a',
    });
    tokens.admin = await tokenFor('admin');
    supplierB = await tokenFor('supplier', { creditCode: SUPPLIER_B, sub: 'supplier-b' });
    inspectorX = await tokenFor('inspector', { regions: [REGION_X], sub: 'inspector-x' });

    // Two contracts, each with an overdue signing (a violation) and an invoice, in two regions.
    seeded.push(
      ev.award(C_AX, '2021-09-13', { unit: UNIT_X, supplierCode: SUPPLIER_A }),
      ev.invoice(C_AX, '2021-09-20', 'INV-AX-1', '1000.00', 'progress'),
      ev.award(C_BY, '2021-09-14', { unit: UNIT_Y, supplierCode: SUPPLIER_B }),
      ev.invoice(C_BY, '2021-09-21', 'INV-BY-1', '2000.00', 'progress'),
    );
    const res = await postEvents(seeded);
    expect(res.status).toBe(200);
    expect(res.body.results.map((r: { status: string }) => r.status)).toEqual(
      seeded.map(() => 'accepted'),
    );

    // the read model must have caught up before the scoping tests
    for (let i = 0; ; i++) {
      const p = await get('/v1/admin/projections', tokens.admin);
      expect(p.status).toBe(200);
      if (p.body.projections[0].behind === 0) break;
      if (i > 400) throw new Error(`projector did not catch up: ${JSON.stringify(p.body)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  });
  afterAll(async () => {
    await t?.close();
  });

  // ---------------------------------------------------------------------------------------
  describe('authentication: 401 AUTH.UNAUTHORIZED', () => {
    it('without a token, or with a malformed Authorization header', async () => {
      const none = await get('/v1/units');
      expectError(none, 401, 'AUTH.UNAUTHORIZED');
      expect(none.headers['www-authenticate']).toBe('Bearer');
      for (const h of [
        'Basic dXNlcjpwYXNz',
        'Bearer',
        'Bearer ',
        `Token ${tokens.inspector}`,
        `Bearer ${tokens.inspector} extra`,
      ]) {
        expectError(
          await request(t.url).get('/v1/units').set('Authorization', h),
          401,
          'AUTH.UNAUTHORIZED',
        );
      }
      expectError(
        await request(t.url).post('/v1/events').send(seeded[0]),
        401,
        'AUTH.UNAUTHORIZED',
      );
    });

    const forged: Array<[string, () => Promise<string>]> = [
      ['expired (beyond the 30 s skew)', () => tokenFor('inspector', {}, { expiresIn: -60 })],
      [
        'without exp',
        () =>
          new SignJWT({ role: 'inspector' })
            .setProtectedHeader({ alg: 'HS256' })
            .sign(enc(TEST_JWT_SECRET)),
      ],
      [
        'signed with another secret',
        () => tokenFor('inspector', {}, { secret: `${TEST_JWT_SECRET}-not` }),
      ],
      [
        'alg: none',
        async () => new UnsecuredJWT({ role: 'inspector' }).setExpirationTime('1h').encode(),
      ],
      [
        'alg: none with the signature of a valid token kept',
        async () => {
          const [, payload, sig] = tokens.inspector.split('.');
          return `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${payload}.${sig}`;
        },
      ],
      [
        'HS384 (another algorithm with the right secret)',
        () =>
          new SignJWT({ role: 'inspector' })
            .setProtectedHeader({ alg: 'HS384' })
            .setExpirationTime('1h')
            .sign(enc(TEST_JWT_SECRET)),
      ],
      [
        'a payload changed after signing (region limit removed)',
        async () => {
          const [h, , s] = inspectorX.split('.');
          const p = Buffer.from(
            JSON.stringify({ role: 'inspector', sub: 'inspector-x', exp: now() + 600 }),
          ).toString('base64url');
          return `${h}.${p}.${s}`;
        },
      ],
      ['an unknown role', () => tokenFor('admin', { role: 'root' })],
      ['a platform without platformId', () => tokenFor('platform', { platformId: undefined })],
      [
        'a supplier with an invalid credit code',
        () => tokenFor('supplier', { creditCode: '91500102MA5U7QXX2C' }),
      ],
      ['regions that are not prefixes', () => tokenFor('inspector', { regions: ['%'] })],
    ];
    it.each(forged)('a token %s', async (_name, make) => {
      const res = await get('/v1/units', await make());
      expectError(res, 401, 'AUTH.UNAUTHORIZED');
      expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    });

    it('tolerates 30 s of clock skew on exp', async () => {
      expect(
        (await get(`/v1/units?asOf=${AS_OF}`, await tokenFor('inspector', {}, { expiresIn: -10 })))
          .status,
      ).toBe(200);
    });
  });

  // ---------------------------------------------------------------------------------------
  describe('roles: 403 AUTH.FORBIDDEN', () => {
    it('a wrong role is refused with the error shape', async () => {
      expectError(await get('/v1/units', tokens.platform), 403, 'AUTH.FORBIDDEN');
      expectError(await get('/v1/admin/projections', tokens.inspector), 403, 'AUTH.FORBIDDEN');
      expectError(await postEvents(seeded[0], tokens.inspector), 403, 'AUTH.FORBIDDEN');
      expectError(await get(`/v1/violations?asOf=${AS_OF}`, supplierA), 403, 'AUTH.FORBIDDEN');
      expectError(await get(`/v1/contracts/${C_AX}`, tokens.admin), 403, 'AUTH.FORBIDDEN');
    });
  });

  // ---------------------------------------------------------------------------------------
  describe('the policy of every route (table)', () => {
    type Expect = number;
    interface Policy {
      call: (token?: string) => request.Test;
      /** status by caller; `none` is the call without a token */
      status: Record<Role | 'none', Expect>;
    }
    const DENY = { platform: 403, inspector: 403, supplier: 403, admin: 403 } as const;
    const q = `?asOf=${AS_OF}`;
    const withToken = (r: request.Test, token?: string) => (token ? r.set(bearer(token)) : r);
    const g = (p: string) => (token?: string) => withToken(request(t.url).get(p), token);

    /** Every route of the application. A new route must be added here, with its policy. */
    const table: Record<string, Policy> = {
      'post /v1/events': {
        // the platform re-sends a stored event: 200 duplicate, nothing changes
        call: (token) => withToken(request(t.url).post('/v1/events'), token).send(seeded[0]),
        status: { none: 401, ...DENY, platform: 200 },
      },
      'get /v1/units': { call: g(`/v1/units${q}`), status: { none: 401, ...DENY, inspector: 200 } },
      'get /v1/units/:unitCode/compliance': {
        call: g(`/v1/units/${UNIT_X.code}/compliance${q}`),
        status: { none: 401, ...DENY, inspector: 200 },
      },
      'get /v1/violations': {
        call: g(`/v1/violations${q}`),
        status: { none: 401, ...DENY, inspector: 200 },
      },
      'get /v1/deadlines': {
        call: g('/v1/deadlines?within=5'),
        status: { none: 401, ...DENY, inspector: 200 },
      },
      'get /v1/reports/sme-overdue': {
        call: g('/v1/reports/sme-overdue?year=2021'),
        status: { none: 401, ...DENY, inspector: 200 },
      },
      'get /v1/units/:unitCode/payment-performance': {
        call: g(`/v1/units/${UNIT_X.code}/payment-performance?from=2021-01-01&to=2021-12-31`),
        status: { none: 401, ...DENY, inspector: 200 },
      },
      'get /v1/contracts/:contractId': {
        call: g(`/v1/contracts/${C_AX}${q}`),
        status: { none: 401, ...DENY, inspector: 200, supplier: 200 },
      },
      'get /v1/contracts/:contractId/events': {
        call: g(`/v1/contracts/${C_AX}/events`),
        status: { none: 401, ...DENY, inspector: 200, supplier: 200 },
      },
      'get /v1/suppliers/:creditCode/payments': {
        call: g(`/v1/suppliers/${SUPPLIER_A}/payments${q}`),
        status: { none: 401, ...DENY, inspector: 200, supplier: 200 },
      },
      'post /v1/contracts/:contractId/exemptions': {
        // an invalid body: the inspector passes the guard and meets validation (400), no side effect
        call: (token) =>
          withToken(request(t.url).post(`/v1/contracts/${C_AX}/exemptions`), token).send({}),
        status: { none: 401, ...DENY, inspector: 400 },
      },
      'get /v1/admin/projections': {
        call: g('/v1/admin/projections'),
        status: { none: 401, ...DENY, admin: 200 },
      },
      'post /v1/admin/projections/:name/rebuild': {
        call: (token) =>
          withToken(request(t.url).post('/v1/admin/projections/no-such-projection/rebuild'), token),
        status: { none: 401, ...DENY, admin: 404 },
      },
      'get /v1/admin/calendar': {
        call: g('/v1/admin/calendar'),
        status: { none: 401, ...DENY, admin: 200 },
      },
      'put /v1/admin/calendar/:year': {
        call: (token) => withToken(request(t.url).put('/v1/admin/calendar/2031'), token).send({}),
        status: { none: 401, ...DENY, admin: 400 },
      },
      'get /v1/policies': {
        call: g('/v1/policies'),
        status: { none: 401, ...DENY, inspector: 200, admin: 200 },
      },
      'put /v1/admin/policies/:id': {
        // an invalid body: the admin passes the guard and meets validation (400), nothing stored
        call: (token) =>
          withToken(request(t.url).put('/v1/admin/policies/auth-test'), token).send({}),
        status: { none: 401, ...DENY, admin: 400 },
      },
      'get /v1/auth/config': {
        // what the dashboard's sign-in page reads before it has a token
        call: g('/v1/auth/config'),
        status: { none: 200, platform: 200, inspector: 200, supplier: 200, admin: 200 },
      },
      'post /v1/admin/webhooks': {
        // an invalid body: the admin passes the guard and meets validation (400), nothing stored
        call: (token) => withToken(request(t.url).post('/v1/admin/webhooks'), token).send({}),
        status: { none: 401, ...DENY, admin: 400 },
      },
      'get /v1/admin/webhooks': {
        call: g('/v1/admin/webhooks'),
        status: { none: 401, ...DENY, admin: 200 },
      },
      'get /v1/admin/webhooks/:id': {
        call: g(`/v1/admin/webhooks/${NO_WEBHOOK}`),
        status: { none: 401, ...DENY, admin: 404 },
      },
      'delete /v1/admin/webhooks/:id': {
        call: (token) =>
          withToken(request(t.url).delete(`/v1/admin/webhooks/${NO_WEBHOOK}`), token),
        status: { none: 401, ...DENY, admin: 404 },
      },
      'post /v1/admin/webhooks/:id/resume': {
        call: (token) =>
          withToken(request(t.url).post(`/v1/admin/webhooks/${NO_WEBHOOK}/resume`), token),
        status: { none: 401, ...DENY, admin: 404 },
      },
      'get /v1/admin/webhooks/:id/deliveries': {
        call: g(`/v1/admin/webhooks/${NO_WEBHOOK}/deliveries`),
        status: { none: 401, ...DENY, admin: 404 },
      },
      'get /v1/me': {
        call: g('/v1/me'),
        status: { none: 401, platform: 200, inspector: 200, supplier: 200, admin: 200 },
      },
      'get /v1/overview': {
        call: g(`/v1/overview${q}`),
        status: { none: 401, ...DENY, inspector: 200 },
      },
      'post /v1/ocds/releases': {
        // `{}` is read as a release and refused as not OCDS in the answer: 200, nothing stored
        call: (token) =>
          withToken(request(t.url).post('/v1/ocds/releases'), token)
            .set('content-type', 'application/json')
            .send('{}'),
        status: { none: 401, ...DENY, platform: 200 },
      },
      'get /v1/ocds/contracts/:contractId': {
        call: g(`/v1/ocds/contracts/${C_AX}`),
        status: { none: 401, ...DENY, inspector: 200, supplier: 200 },
      },
      'get /v1/ocds/releases': {
        call: g('/v1/ocds/releases'),
        status: { none: 401, ...DENY, inspector: 200 },
      },
      'get /ocds/extension/extension.json': {
        call: g('/ocds/extension/extension.json'),
        status: { none: 200, platform: 200, inspector: 200, supplier: 200, admin: 200 },
      },
      'get /ocds/extension/release-schema.json': {
        call: g('/ocds/extension/release-schema.json'),
        status: { none: 200, platform: 200, inspector: 200, supplier: 200, admin: 200 },
      },
      'get /v1/trends': {
        call: g(`/v1/trends${q}`),
        status: { none: 401, ...DENY, inspector: 200 },
      },
      'get /v1/regions': {
        call: g(`/v1/regions${q}`),
        status: { none: 401, ...DENY, inspector: 200 },
      },
      'get /v1/platforms/lag': {
        call: g('/v1/platforms/lag'),
        status: { none: 401, ...DENY, inspector: 200 },
      },
      'get /health': {
        call: g('/health'),
        status: { none: 200, platform: 200, inspector: 200, supplier: 200, admin: 200 },
      },
      'get /metrics': {
        call: g('/metrics'),
        status: { none: 200, platform: 200, inspector: 200, supplier: 200, admin: 200 },
      },
    };
    /** The OpenAPI UI and documents are open (the express routes of SwaggerModule). */
    const isDocs = (key: string) => /^get \/docs([/-]|$)/.test(key);

    function registeredRoutes(): string[] {
      const instance = t.app.getHttpAdapter().getInstance();
      const stack = (instance.router ?? instance._router).stack as Array<{
        route?: { path: string; methods: Record<string, boolean> };
      }>;
      return stack.flatMap((l) =>
        l.route
          ? Object.keys(l.route.methods).map((m) => `${m.toLowerCase()} ${l.route!.path}`)
          : [],
      );
    }

    it('every registered route has a policy in this table (a new route without one fails here)', () => {
      const routes = registeredRoutes();
      expect(routes.length).toBeGreaterThan(10);
      expect(routes.filter((r) => !isDocs(r) && !(r in table))).toEqual([]);
      expect(Object.keys(table).filter((r) => !routes.includes(r))).toEqual([]);
    });

    it('every role, and no token, gets exactly the status of the table on every route', async () => {
      const tokenOf: Record<Role | 'none', string | undefined> = { ...tokens, none: undefined };
      const got: Record<string, Record<string, Expect>> = {};
      const want: Record<string, Record<string, Expect>> = {};
      for (const route of registeredRoutes()) {
        let policy = table[route];
        if (isDocs(route)) {
          // open: everyone gets what a caller without a token gets, which is never an auth error
          const open = (await g(route.slice(4))()).status;
          expect({ route, open: [401, 403].includes(open) || open >= 500 }).toEqual({
            route,
            open: false,
          });
          policy = {
            call: g(route.slice(4)),
            status: { none: open, platform: open, inspector: open, supplier: open, admin: open },
          };
        }
        for (const who of [...ROLES, 'none'] as const) {
          const res = await policy.call(tokenOf[who]);
          (got[route] ??= {})[who] = res.status;
          (want[route] ??= {})[who] = policy.status[who];
          if (res.status === 401 || res.status === 403) {
            expect(res.body.code).toBe(res.status === 401 ? 'AUTH.UNAUTHORIZED' : 'AUTH.FORBIDDEN');
          }
        }
      }
      expect(got).toEqual(want);
    });

    it('the OpenAPI document asks for a bearer token on every /v1 operation but the sign-in configuration, and on nothing else', async () => {
      const doc = (await get('/docs/openapi.json')).body as {
        paths: Record<string, Record<string, { security?: unknown }>>;
      };
      for (const [p, ops] of Object.entries(doc.paths)) {
        for (const [method, op] of Object.entries(ops)) {
          expect({ op: `${method} ${p}`, security: op.security }).toEqual({
            op: `${method} ${p}`,
            security:
              p.startsWith('/v1/') && p !== '/v1/auth/config' ? [{ bearer: [] }] : undefined,
          });
        }
      }
    });
  });

  // ---------------------------------------------------------------------------------------
  describe('suppliers see only their own contracts and payments (404, no existence leak)', () => {
    it('own contract, its history and own payments: 200', async () => {
      const c = await get(`/v1/contracts/${C_AX}?asOf=${AS_OF}`, supplierA);
      expect(c.status).toBe(200);
      expect(c.body.supplier.creditCode).toBe(SUPPLIER_A);
      expect((await get(`/v1/contracts/${C_AX}/events`, supplierA)).status).toBe(200);
      const p = await get(`/v1/suppliers/${SUPPLIER_A}/payments?asOf=${AS_OF}`, supplierA);
      expect(p.status).toBe(200);
      expect(p.body.invoices.map((i: { contractId: string }) => i.contractId)).toEqual([C_AX]);
      // and B sees its own
      expect((await get(`/v1/contracts/${C_BY}?asOf=${AS_OF}`, supplierB)).status).toBe(200);
    });

    it.each([
      [
        'contract detail',
        `/v1/contracts/${C_BY}?asOf=${AS_OF}`,
        `/v1/contracts/${C_NONE}?asOf=${AS_OF}`,
        C_BY,
        C_NONE,
        'CONTRACT.NOT_FOUND',
      ],
      [
        'contract events',
        `/v1/contracts/${C_BY}/events`,
        `/v1/contracts/${C_NONE}/events`,
        C_BY,
        C_NONE,
        'CONTRACT.NOT_FOUND',
      ],
      [
        'payments',
        `/v1/suppliers/${SUPPLIER_B}/payments?asOf=${AS_OF}`,
        `/v1/suppliers/${NOBODY}/payments?asOf=${AS_OF}`,
        SUPPLIER_B,
        NOBODY,
        'SUPPLIER.NOT_FOUND',
      ],
    ])(
      "another supplier's %s answers exactly as a nonexistent one",
      async (_what, other, missing, otherId, missingId, code) => {
        const a = await get(other, supplierA);
        const b = await get(missing, supplierA);
        expectError(a, 404, code);
        expectError(b, 404, code);
        expect(leakFree(a, otherId)).toEqual(leakFree(b, missingId));
        // while the owner and an inspector do see it
        expect((await get(other, supplierB)).status).toBe(200);
        expect((await get(other, tokens.inspector)).status).toBe(200);
      },
    );
  });

  // ---------------------------------------------------------------------------------------
  describe('an inspector limited to regions sees only those', () => {
    it('units list', async () => {
      const all = await get(`/v1/units?asOf=${AS_OF}`, tokens.inspector);
      expect(all.body.items.map((u: { unitCode: string }) => u.unitCode).sort()).toEqual([
        UNIT_X.code,
        UNIT_Y.code,
      ]);
      const x = await get(`/v1/units?asOf=${AS_OF}`, inspectorX);
      expect(x.status).toBe(200);
      expect(x.body.items.map((u: { unitCode: string }) => u.unitCode)).toEqual([UNIT_X.code]);
      expect(x.body.total).toBe(1);
      // asking for the other region explicitly does not widen the scope
      const y = await get(`/v1/units?asOf=${AS_OF}&region=${REGION_Y}`, inspectorX);
      expect(y.body.items).toEqual([]);
    });

    it('violations list and CSV export', async () => {
      const all = await get(`/v1/violations?asOf=${AS_OF}`, tokens.inspector);
      expect(new Set(all.body.items.map((v: { contractId: string }) => v.contractId))).toEqual(
        new Set([C_AX, C_BY]),
      );
      const x = await get(`/v1/violations?asOf=${AS_OF}`, inspectorX);
      expect(x.status).toBe(200);
      expect(x.body.items.length).toBeGreaterThan(0);
      expect(new Set(x.body.items.map((v: { region: string }) => v.region))).toEqual(
        new Set([REGION_X]),
      );
      expect(
        (await get(`/v1/violations?asOf=${AS_OF}&unit=${UNIT_Y.code}`, inspectorX)).body.items,
      ).toEqual([]);
      const csv = await get(`/v1/violations?asOf=${AS_OF}`, inspectorX).set('Accept', 'text/csv');
      expect(csv.status).toBe(200);
      expect(csv.text).toContain(C_AX);
      expect(csv.text).not.toContain(C_BY);
    });

    it('contract detail, contract events, unit compliance, payments and exemptions of another region: 404', async () => {
      expect((await get(`/v1/contracts/${C_AX}?asOf=${AS_OF}`, inspectorX)).status).toBe(200);
      expectError(
        await get(`/v1/contracts/${C_BY}?asOf=${AS_OF}`, inspectorX),
        404,
        'CONTRACT.NOT_FOUND',
      );
      expect((await get(`/v1/contracts/${C_AX}/events`, inspectorX)).status).toBe(200);
      expectError(await get(`/v1/contracts/${C_BY}/events`, inspectorX), 404, 'CONTRACT.NOT_FOUND');
      expect(
        (await get(`/v1/units/${UNIT_X.code}/compliance?asOf=${AS_OF}`, inspectorX)).status,
      ).toBe(200);
      expectError(
        await get(`/v1/units/${UNIT_Y.code}/compliance?asOf=${AS_OF}`, inspectorX),
        404,
        'UNIT.NOT_FOUND',
      );
      expect(
        (await get(`/v1/units/${UNIT_Y.code}/compliance?asOf=${AS_OF}`, tokens.inspector)).status,
      ).toBe(200);
      expectError(
        await get(`/v1/suppliers/${SUPPLIER_B}/payments?asOf=${AS_OF}`, inspectorX),
        404,
        'SUPPLIER.NOT_FOUND',
      );
      const exempt = await request(t.url)
        .post(`/v1/contracts/${C_BY}/exemptions`)
        .set(bearer(inspectorX))
        .send({ rule: 'signing', reason: '区外合同' });
      expectError(exempt, 404, 'OBLIGATION.NOT_FOUND');
    });
  });

  // ---------------------------------------------------------------------------------------
  describe('platforms', () => {
    it('cannot post ObligationExempted: rejected per event with EVENT.NOT_ALLOWED_ON_INGESTION', async () => {
      const exempted = {
        eventId: randomUUID(),
        type: 'ObligationExempted',
        contractId: C_AX,
        occurredAt: '2021-10-10T10:00:00+08:00',
        schemaVersion: 1,
        data: { rule: 'signing', reason: '平台自行豁免' },
      };
      const batch = await postEvents([exempted]);
      expect(batch.status).toBe(200);
      expect(batch.body.results).toEqual([
        expect.objectContaining({
          eventId: exempted.eventId,
          status: 'rejected',
          code: 'EVENT.NOT_ALLOWED_ON_INGESTION',
        }),
      ]);
      const single = await postEvents({ ...exempted, eventId: randomUUID() });
      expect(single.status).toBe(400);
      expect(single.body.code).toBe('EVENT.NOT_ALLOWED_ON_INGESTION');
      const history = await get(`/v1/contracts/${C_AX}/events`, tokens.inspector);
      expect(history.body.events.map((e: { type: string }) => e.type)).not.toContain(
        'ObligationExempted',
      );
    });

    it("stamps the token's platformId (and subject) on each event's source", async () => {
      const history = await get(`/v1/contracts/${C_AX}/events`, tokens.inspector);
      expect(history.status).toBe(200);
      expect(history.body.events.length).toBeGreaterThan(0);
      for (const e of history.body.events) {
        expect(e.source).toEqual({
          kind: 'http',
          platformId: PLATFORM_ID,
          principal: 'platform-robot',
        });
      }
    });

    it('2,000 random malformed bodies: no 5xx, every event rejected with a stable code', async () => {
      const base = (): Record<string, unknown> => ({
        eventId: randomUUID(),
        type: 'ContractSigned',
        contractId: `FUZZ-${randomUUID().slice(0, 8)}`,
        occurredAt: '2021-09-30T15:20:00+08:00',
        schemaVersion: 1,
        data: { amount: '1250000.00', prepaymentRatio: '0.30' },
      });
      const notAString = fc.oneof(
        fc.integer(),
        fc.double(),
        fc.boolean(),
        fc.constant(null),
        fc.array(fc.jsonValue(), { maxLength: 3 }),
        fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 3 }),
      );
      const required = ['eventId', 'type', 'contractId', 'occurredAt', 'schemaVersion', 'data'];
      const mutation: fc.Arbitrary<(e: Record<string, unknown>) => void> = fc.oneof(
        fc.constantFrom(...required).map((k) => (e: Record<string, unknown>) => void delete e[k]),
        fc.tuple(fc.constantFrom('eventId', 'type', 'contractId', 'occurredAt'), notAString).map(
          ([k, v]) =>
            (e: Record<string, unknown>) =>
              void (e[k] = v),
        ),
        fc
          .string({ maxLength: 40 })
          .map((s) => (e: Record<string, unknown>) => void (e.eventId = `x${s}`)),
        fc
          .string({ maxLength: 40 })
          .map((s) => (e: Record<string, unknown>) => void (e.occurredAt = `2021-13${s}`)),
        fc
          .string({ maxLength: 30 })
          .map((s) => (e: Record<string, unknown>) => void (e.type = `Unknown${s}`)),
        fc
          .integer()
          .filter((n) => n !== 1)
          .map((n) => (e: Record<string, unknown>) => void (e.schemaVersion = n)),
        fc
          .jsonValue()
          .map((v) => (e: Record<string, unknown>) => void (e[`unknownField_${typeof v}`] = v)),
        fc.jsonValue().map((v) => (e: Record<string, unknown>) => {
          const amount = typeof v === 'string' ? `${v}x.` : v;
          e.data =
            e.data !== null && typeof e.data === 'object' && !Array.isArray(e.data)
              ? { ...e.data, amount }
              : { amount };
        }),
        fc
          .jsonValue()
          .filter((v) => v === null || typeof v !== 'object' || Array.isArray(v))
          .map((v) => (e: Record<string, unknown>) => void (e.data = v)),
        fc
          .string({ minLength: 65, maxLength: 80 })
          .map((s) => (e: Record<string, unknown>) => void (e.contractId = s)),
      );
      const mutated = fc.array(mutation, { minLength: 1, maxLength: 3 }).map((ms) => {
        const e = base();
        for (const m of ms) m(e);
        return e;
      });
      // JSON values with no envelope in them: objects without the fields, scalars, arrays
      const junk = fc.jsonValue({ maxDepth: 3 });
      const body = fc.oneof(
        { arbitrary: mutated.map((v) => ({ json: v })), weight: 4 },
        {
          arbitrary: fc
            .array(fc.oneof(mutated, junk), { minLength: 1, maxLength: 5 })
            .map((v) => ({ json: v })),
          weight: 3,
        },
        { arbitrary: junk.map((v) => ({ json: v })), weight: 2 },
        { arbitrary: fc.string({ maxLength: 60 }).map((text) => ({ text })), weight: 1 },
      );
      let count = 0;
      await fc.assert(
        fc.asyncProperty(body, async (b) => {
          count++;
          const text = 'text' in b ? b.text : JSON.stringify(b.json);
          const res = await request(t.url)
            .post('/v1/events')
            .set(bearer(tokens.platform))
            .set('Content-Type', 'application/json')
            .send(text);
          expect(res.status).toBeLessThan(500);
          if (res.status === 200 && Array.isArray(res.body?.results)) {
            for (const r of res.body.results as Array<{ status: string; code?: string }>) {
              expect(r.status).toBe('rejected');
              expect(r.code).toMatch(STABLE_CODE);
            }
          } else {
            expect(res.status).toBeGreaterThanOrEqual(400);
            expect(res.body.code).toMatch(STABLE_CODE);
          }
        }),
        { numRuns: 2000, seed: 20211013 },
      );
      expect(count).toBe(2000);
    }, 300_000);
  });
});

// -----------------------------------------------------------------------------------------
describe('RS256 configuration, rate limits and CORS (e2e)', () => {
  let t: TestApp;
  let privateKey: CryptoKey;
  let publicPem: string;
  const rs = (claims: Claims, key: CryptoKey = privateKey) =>
    new SignJWT({ ...claims })
      .setProtectedHeader({ alg: 'RS256' })
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(key);

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256');
    privateKey = pair.privateKey;
    publicPem = await exportSPKI(pair.publicKey);
    t = await startTestApp({
      env: {
        JWT_PUBLIC_KEY: publicPem,
        RATE_LIMIT_INGEST_PER_MIN: '2',
        RATE_LIMIT_QUERY_PER_MIN: '3',
        CORS_ORIGINS: 'https://dashboard.example.org',
      },
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  const units = (token: string) =>
    request(t.url).get('/v1/units?asOf=2021-12-31').set(bearer(token));

  it('accepts RS256 tokens of the configured key and refuses algorithm switching to HS256', async () => {
    expect((await units(await rs({ role: 'inspector', sub: 'rs-ok' }))).status).toBe(200);
    // the classic confusion attack: HMAC keyed with the public key
    const confused = await new SignJWT({ role: 'inspector' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('10m')
      .sign(enc(publicPem));
    expectError(await units(confused), 401, 'AUTH.UNAUTHORIZED');
    expectError(await units(await tokenFor('inspector')), 401, 'AUTH.UNAUTHORIZED');
    const other = (await generateKeyPair('RS256')).privateKey;
    expectError(await units(await rs({ role: 'inspector' }, other)), 401, 'AUTH.UNAUTHORIZED');
    expectError(
      await units(new UnsecuredJWT({ role: 'inspector' }).setExpirationTime('1h').encode()),
      401,
      'AUTH.UNAUTHORIZED',
    );
  });

  it('limits each principal: separate ingest and query budgets, 429 REQUEST.TOO_MANY_REQUESTS with Retry-After', async () => {
    const alice = await rs({ role: 'inspector', sub: 'rl-alice' });
    for (let i = 0; i < 3; i++) expect((await units(alice)).status).toBe(200);
    const limited = await units(alice);
    expectError(limited, 429, 'REQUEST.TOO_MANY_REQUESTS');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // another principal has its own budget; a new token of the same subject shares it
    expect((await units(await rs({ role: 'inspector', sub: 'rl-bob' }))).status).toBe(200);
    expect((await units(await rs({ role: 'inspector', sub: 'rl-alice' }))).status).toBe(429);

    // ingestion: its own limit (2), per platformId
    const platform = await rs({ role: 'platform', platformId: 'rl-platform', sub: 'robot-1' });
    const post = (token: string) =>
      request(t.url)
        .post('/v1/events')
        .set(bearer(token))
        .send(ev.award(`RL-${randomUUID()}`, '2021-09-13'));
    expect((await post(platform)).status).toBe(202);
    expect((await post(platform)).status).toBe(202);
    expectError(await post(platform), 429, 'REQUEST.TOO_MANY_REQUESTS');
    expectError(
      await post(await rs({ role: 'platform', platformId: 'rl-platform', sub: 'robot-2' })),
      429,
      'REQUEST.TOO_MANY_REQUESTS',
    );
    expect((await post(await rs({ role: 'platform', platformId: 'rl-other' }))).status).toBe(202);

    // operations routes are not limited
    for (let i = 0; i < 5; i++) expect((await request(t.url).get('/health')).status).toBe(200);
  });

  it('CORS answers only the configured origins', async () => {
    const token = await rs({ role: 'inspector', sub: 'cors' });
    const ok = await request(t.url)
      .get('/health')
      .set('Origin', 'https://dashboard.example.org')
      .set(bearer(token));
    expect(ok.headers['access-control-allow-origin']).toBe('https://dashboard.example.org');
    const preflight = await request(t.url)
      .options('/v1/units')
      .set('Origin', 'https://dashboard.example.org')
      .set('Access-Control-Request-Method', 'GET')
      .set('Access-Control-Request-Headers', 'authorization');
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-headers']).toMatch(/authorization/i);
    const evil = await request(t.url).get('/health').set('Origin', 'https://evil.example');
    expect(evil.headers['access-control-allow-origin']).toBeUndefined();
  });
});

// -----------------------------------------------------------------------------------------
describe('security headers and closed CORS (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('the API forbids everything in CSP; /docs gets a CSP that lets the UI run; no CORS headers', async () => {
    const api = await request(t.url).get('/v1/units').set('Origin', 'https://evil.example');
    expect(api.headers['content-security-policy']).toBe(
      "default-src 'none';frame-ancestors 'none'",
    );
    expect(api.headers['x-content-type-options']).toBe('nosniff');
    expect(api.headers['x-powered-by']).toBeUndefined();
    expect(api.headers['access-control-allow-origin']).toBeUndefined();
    const docs = await request(t.url).get('/docs/');
    expect(docs.status).toBe(200);
    const csp = String(docs.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self' https: 'unsafe-inline'");
    expect(csp).not.toContain('upgrade-insecure-requests');
    // every script the UI page loads is served (same origin), without a token
    const scripts = [...docs.text.matchAll(/<script src="([^"]+)"/g)].map((m) => m[1]);
    expect(scripts.length).toBeGreaterThan(0);
    for (const s of scripts)
      expect((await request(t.url).get(new URL(s, `${t.url}/docs/`).pathname)).status).toBe(200);
    expect((await request(t.url).get('/docs/openapi.json')).status).toBe(200);
  });
});

// -----------------------------------------------------------------------------------------
describe('the generated secret and `npm run token` (e2e)', () => {
  it('with no key configured, the service and the token script share the secret kept under DATA_DIR', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'monitor-auth-'));
    const token = async (...args: string[]) => {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['-r', '@swc-node/register', 'scripts/token.ts', ...args],
        {
          cwd: path.join(__dirname, '..', '..'),
          env: { ...process.env, DATA_DIR: dataDir, JWT_SECRET: '' },
        },
      );
      return stdout.trim();
    };
    const env = { DATA_DIR: dataDir, JWT_SECRET: '' };
    let t = await startTestApp({ env });
    try {
      expect(statSync(path.join(dataDir, 'jwt-secret')).mode & 0o777).toBe(0o600);
      const inspector = await token(
        '--role',
        'inspector',
        '--regions',
        '500102,500103',
        '--ttl',
        '10m',
        '--sub',
        'cli-test',
      );
      expect((await request(t.url).get('/v1/units').set(bearer(inspector))).status).toBe(200);
      expect(
        (
          await request(t.url)
            .get('/v1/units')
            .set(bearer(await tokenFor('inspector')))
        ).status,
      ).toBe(401);
      await t.close();
      // tokens survive a restart
      t = await startTestApp({ env });
      expect((await request(t.url).get('/v1/units').set(bearer(inspector))).status).toBe(200);
      const platform = await token('--role', 'platform', '--platform-id', 'cli-platform');
      expect(
        (
          await request(t.url)
            .post('/v1/events')
            .set(bearer(platform))
            .send(ev.award('CLI-1', '2021-09-13'))
        ).status,
      ).toBe(202);
      const history = await request(t.url)
        .get('/v1/contracts/CLI-1/events')
        .set(bearer(await token('--role', 'admin')));
      expect(history.status).toBe(403);
    } finally {
      await t.close();
    }
    await expect(token('--role', 'platform')).rejects.toThrow(/platformId/);
  }, 120_000);
});
