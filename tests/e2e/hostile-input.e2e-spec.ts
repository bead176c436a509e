/**
 * One bad message must never stop the monitor (issue #10, items 1, 2, 4, 11, 12): text
 * PostgreSQL cannot store, bodies that are not UTF-8, huge error lists, whole-body
 * rejections kept for audit, contracts that belong to their platform, a database that is
 * away. The real application on a real PostgreSQL, over HTTP.
 */
import * as http from 'node:http';
import { Client } from 'pg';
import request from 'supertest';
import { ev, type Envelope } from '@app/testing';
import { startTestApp, type TestApp } from '../support/test-app';
import { auth, bearer, tokenFor, TEST_PLATFORM_ID } from '../support/auth';
import { DbProxy, startInProcessApp, type InProcessApp } from '../support/processes';

let seq = 0;
const cid = (tag: string) => `CQ-HOSTILE-${tag}-${++seq}`;
type Body = Record<string, unknown>;
const plain = (e: Envelope): Body => JSON.parse(JSON.stringify(e)) as Body;

/** POSTs exactly these bytes (supertest would JSON-encode a Buffer). */
function rawPost(
  base: string,
  path: string,
  bytes: Buffer | string,
  headers: Record<string, string>,
): Promise<{ status: number; body: Body; text: string }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    // agent: false — a connection of its own: Node's global agent keeps sockets alive, and a
    // request reusing one just as the server's keep-alive timeout (5 s) closes it meets
    // ECONNRESET (the previous test's request, then ~5 s building this 59 MB body)
    const req = http.request(
      { host: u.hostname, port: u.port, path, method: 'POST', headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (b: Buffer) => chunks.push(b));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: Body = {};
          try {
            body = JSON.parse(text) as Body;
          } catch {
            // not JSON: leave the body empty, the status says enough
          }
          resolve({ status: res.statusCode ?? 0, body, text });
        });
      },
    );
    req.on('error', reject);
    req.end(bytes);
  });
}

interface Result {
  eventId: string | null;
  status: string;
  code?: string;
  errors?: Array<{ path: string; message: string }>;
}

describe('hostile input (e2e)', () => {
  let t: TestApp;
  let db: Client;

  beforeAll(async () => {
    t = await startTestApp();
    db = new Client({ connectionString: t.db.url });
    await db.connect();
  });
  afterAll(async () => {
    await db?.end();
    await t?.close();
  });

  const post = (body: unknown, token = auth('platform')) =>
    request(t.url)
      .post('/v1/events')
      .set(token)
      .send(body as object);
  const postBytes = (bytes: Buffer, contentType = 'application/json') =>
    rawPost(t.url, '/v1/events', bytes, { ...auth('platform'), 'content-type': contentType });
  const storedTypes = async (contractId: string) =>
    (
      await db.query<{ type: string }>(
        'SELECT type FROM events WHERE stream_id = $1 ORDER BY stream_version',
        [contractId],
      )
    ).rows.map((r) => r.type);

  // -------------------------------------------------------------------------------------
  describe('text PostgreSQL cannot store (U+0000, unpaired surrogates)', () => {
    const cases: Array<[string, (c: string) => Body, string]> = [
      [
        'NUL in a data string',
        (c) => plain(ev.terminated(c, '2021-10-01', '解除\u0000')),
        'data.reason',
      ],
      [
        'a lone high surrogate in data',
        (c) => plain(ev.terminated(c, '2021-10-01', 'x\ud800')),
        'data.reason',
      ],
      [
        'a lone low surrogate in data',
        (c) => plain(ev.terminated(c, '2021-10-01', '\udc00x')),
        'data.reason',
      ],
      [
        'NUL in correlationId',
        (c) => ({ ...plain(ev.signed(c, '2021-10-01')), correlationId: 'a\u0000b' }),
        'correlationId',
      ],
      [
        'NUL in type',
        (c) => ({ ...plain(ev.signed(c, '2021-10-01')), type: 'ContractSigned\u0000' }),
        'type',
      ],
      [
        'NUL in contractId',
        (c) => ({ ...plain(ev.signed(c, '2021-10-01')), contractId: `${c}\u0000` }),
        'contractId',
      ],
      [
        'NUL in a key of data',
        (c) => ({ ...plain(ev.signed(c, '2021-10-01')), data: { amount: '1.00', 'k\u0000': 1 } }),
        'data.k\u0000',
      ],
      [
        'NUL in eventId',
        (c) => ({
          ...plain(ev.signed(c, '2021-10-01')),
          eventId: '0b6f2c1e-7a43-4d8e-9a55-3e2f1c9d8b1\u0000',
        }),
        'eventId',
      ],
    ];

    it.each(cases)(
      '%s: rejected with EVENT.INVALID_TEXT and its path; its neighbours are stored; kept escaped',
      async (_name, make, path) => {
        const c = cid('text');
        const before = ev.award(c, '2021-09-13');
        const bad = make(c);
        const after = ev.signed(c, '2021-09-20');
        const res = await post([before, bad, after]);
        expect(res.status).toBe(200);
        const results = res.body.results as Result[];
        expect(results.map((r) => r.status)).toEqual(['accepted', 'rejected', 'accepted']);
        expect(results[1].code).toBe('EVENT.INVALID_TEXT');
        expect(results[1].errors).toEqual([{ path, message: expect.any(String) }]);
        expect(await storedTypes(c)).toEqual(['AwardNoticeIssued', 'ContractSigned']);

        const kept = await db.query<{ payload: string; code: string }>(
          `SELECT payload, code FROM rejected_events WHERE code = 'EVENT.INVALID_TEXT' AND payload LIKE $1`,
          [`%${c}%`],
        );
        expect(kept.rows).toHaveLength(1);
        // kept as received: JSON text with the character escaped, parsed back exactly
        expect(JSON.parse(kept.rows[0].payload)).toEqual(bad);

        const single = await post(make(cid('text1')));
        expect({ status: single.status, code: single.body.code }).toEqual({
          status: 400,
          code: 'EVENT.INVALID_TEXT',
        });
      },
    );

    it.each([
      '/v1/units/%00/compliance',
      '/v1/units/a%ED%A0%80/compliance',
      '/v1/contracts/%00',
      '/v1/contracts/%00/events',
      '/v1/violations?unit=%00',
      '/v1/suppliers/%00/payments',
      '/v1/units?region=%00',
      '/v1/units/%FF/compliance',
    ])('GET %s answers 400, not 500', async (path) => {
      const res = await request(t.url).get(path).set(auth('inspector'));
      expect(res.status).toBe(400);
      expect(res.body).toEqual(
        expect.objectContaining({ statusCode: 400, code: expect.stringMatching(/^REQUEST\./) }),
      );
    });

    it('a token whose subject holds U+0000 is refused (it would be stored with every event)', async () => {
      const token = await tokenFor('platform', { sub: 'p\u0000' });
      const res = await post(ev.award(cid('sub'), '2021-09-13'), bearer(token));
      expect({ status: res.status, code: res.body.code }).toEqual({
        status: 401,
        code: 'AUTH.UNAUTHORIZED',
      });
    });
  });

  // -------------------------------------------------------------------------------------
  describe('bodies that are not UTF-8', () => {
    const invalidUtf8 = (text: string) =>
      Buffer.concat([
        Buffer.from(text.slice(0, 20)),
        Buffer.from([0xc3, 0x28, 0xff]),
        Buffer.from(text.slice(20)),
      ]);

    it('POST /v1/events: 400 REQUEST.INVALID_ENCODING, never silently replaced; kept for audit', async () => {
      const c = cid('utf8');
      const text = JSON.stringify(ev.award(c, '2021-09-13'));
      const res = await postBytes(invalidUtf8(text));
      expect({ status: res.status, code: res.body.code }).toEqual({
        status: 400,
        code: 'REQUEST.INVALID_ENCODING',
      });
      expect(await storedTypes(c)).toEqual([]);
      const kept = await db.query(
        `SELECT source FROM rejected_events WHERE code = 'REQUEST.INVALID_ENCODING' AND payload LIKE $1`,
        [`%${c}%`],
      );
      expect(kept.rows).toHaveLength(1);
      expect(kept.rows[0].source).toEqual(
        expect.objectContaining({ kind: 'http', platformId: TEST_PLATFORM_ID }),
      );
    });

    it('other JSON routes: 400 REQUEST.INVALID_ENCODING', async () => {
      const body = invalidUtf8(
        JSON.stringify({ rule: 'filing', reason: '正当理由正当理由正当理由' }),
      );
      const res = await rawPost(t.url, '/v1/contracts/CQ-X-1/exemptions', body, {
        ...auth('inspector'),
        'content-type': 'application/json',
      });
      expect({ status: res.status, code: res.body.code }).toEqual({
        status: 400,
        code: 'REQUEST.INVALID_ENCODING',
      });
    });
  });

  // -------------------------------------------------------------------------------------
  describe('whole-body rejections are kept for audit (authenticated platforms only)', () => {
    const keptWith = async (marker: string) =>
      (
        await db.query<{ code: string; payload: string; source: Body; event_id: string | null }>(
          `SELECT code, payload, source, event_id FROM rejected_events WHERE payload LIKE $1`,
          [`%${marker}%`],
        )
      ).rows;

    it('invalid JSON: 400 EVENT.INVALID_JSON and a row with the text sent', async () => {
      const marker = `not-json-${++seq}`;
      const res = await postBytes(Buffer.from(`{"eventId": "${marker}", oops`));
      expect({ status: res.status, code: res.body.code }).toEqual({
        status: 400,
        code: 'EVENT.INVALID_JSON',
      });
      const rows = await keptWith(marker);
      expect(rows.map((r) => r.code)).toEqual(['EVENT.INVALID_JSON']);
      expect(rows[0].source).toEqual(expect.objectContaining({ platformId: TEST_PLATFORM_ID }));
    });

    it('another media type: 415 and a row', async () => {
      const marker = `text-plain-${++seq}`;
      const res = await postBytes(Buffer.from(JSON.stringify({ marker })), 'text/plain');
      expect({ status: res.status, code: res.body.code }).toEqual({
        status: 415,
        code: 'REQUEST.UNSUPPORTED_MEDIA_TYPE',
      });
      expect((await keptWith(marker)).map((r) => r.code)).toEqual([
        'REQUEST.UNSUPPORTED_MEDIA_TYPE',
      ]);
    });

    it('a body over BODY_LIMIT: 413 and a row that says so (the body itself is not read)', async () => {
      const small = await startTestApp({ env: { BODY_LIMIT: '10kb' } });
      const sdb = new Client({ connectionString: small.db.url });
      await sdb.connect();
      try {
        const res = await rawPost(
          small.url,
          '/v1/events',
          Buffer.from(JSON.stringify([{ big: 'x'.repeat(20_000) }])),
          { ...auth('platform'), 'content-type': 'application/json' },
        );
        expect({ status: res.status, code: res.body.code }).toEqual({
          status: 413,
          code: 'REQUEST.PAYLOAD_TOO_LARGE',
        });
        const rows = await sdb.query(`SELECT code, payload, source FROM rejected_events`);
        expect(rows.rows).toEqual([
          expect.objectContaining({
            code: 'REQUEST.PAYLOAD_TOO_LARGE',
            payload: 'null',
            source: expect.objectContaining({ platformId: TEST_PLATFORM_ID }),
          }),
        ]);
      } finally {
        await sdb.end();
        await small.close();
      }
    });

    it('an unauthenticated request is refused before its body is read: nothing kept', async () => {
      const marker = `anonymous-${++seq}`;
      const res = await request(t.url)
        .post('/v1/events')
        .set('Content-Type', 'application/json')
        .send(`{"x": "${marker}", oops`);
      expect(res.status).toBe(401);
      expect(await keptWith(marker)).toEqual([]);
    });
  });

  // -------------------------------------------------------------------------------------
  describe('bounded error lists and a responsive event loop', () => {
    const withKeys = (c: string, i: number, n: number): Body => {
      const data: Body = { amount: '1.00' };
      for (let k = 0; k < n; k++) data[`k${k}`] = 1;
      return { ...plain(ev.signed(`${c}-${i}`, '2021-10-01')), data };
    };

    it('1,000 events × 600 unknown keys: at most 21 errors each, an answer of at most 2 MB', async () => {
      const c = cid('keys');
      const body = Array.from({ length: 1000 }, (_, i) => withKeys(c, i, 600));
      const res = await post(body);
      expect(res.status).toBe(200);
      expect(Buffer.byteLength(res.text)).toBeLessThan(2_000_000);
      const results = res.body.results as Result[];
      expect(results).toHaveLength(1000);
      for (const r of results) {
        expect(r.status).toBe('rejected');
        expect(r.errors!.length).toBeGreaterThan(0);
        expect(r.errors!.length).toBeLessThanOrEqual(21);
      }
      const kept = await db.query<{ n: number; max_errors: number; max_payload: number }>(
        `SELECT count(*)::int AS n, max(jsonb_array_length(errors)) AS max_errors,
                max(length(payload)) AS max_payload
           FROM rejected_events WHERE contract_id LIKE $1`,
        [`${c}-%`],
      );
      expect(kept.rows[0].n).toBe(1000);
      expect(kept.rows[0].max_errors).toBeLessThanOrEqual(21);
      expect(kept.rows[0].max_payload).toBeLessThanOrEqual(64 * 1024);
    });

    it('the largest allowed body (~60 MB, 6,000 keys per event): answered, /health within 1 s meanwhile', async () => {
      const c = cid('huge');
      // encoded before the clock starts: the client shares this process's event loop with the
      // service, and writing a 59 MB string spends ~0.4 s of it encoding UTF-8 (not the service's)
      const bytes = Buffer.from(
        JSON.stringify(Array.from({ length: 1000 }, (_, i) => withKeys(c, i, 6000))),
      );
      expect(bytes.length).toBeGreaterThan(55_000_000);
      const big = rawPost(t.url, '/v1/events', bytes, {
        ...auth('platform'),
        'content-type': 'application/json',
      }).then((r) => ({ status: r.status, bytes: Buffer.byteLength(r.text) }));
      let done = false;
      void big.finally(() => (done = true));
      const latencies: number[] = [];
      while (!done) {
        const started = Date.now();
        const h = await request(t.url).get('/health');
        expect(h.status).toBe(200);
        latencies.push(Date.now() - started);
        await new Promise((r) => setTimeout(r, 50));
      }
      const answer = await big;
      expect(answer.status).toBe(200);
      expect(answer.bytes).toBeLessThan(3_000_000);
      console.log(
        `[hostile] ${(bytes.length / 1e6).toFixed(1)} MB body: ${latencies.length} /health calls meanwhile, slowest ${Math.max(...latencies)} ms`,
      );
      expect(latencies.length).toBeGreaterThan(0);
      expect(Math.max(...latencies)).toBeLessThan(1000);
    }, 120_000);
  });

  // -------------------------------------------------------------------------------------
  describe('a contract belongs to the platform that created it', () => {
    it('p2 can neither add to nor retract the facts of a contract p1 created (409, kept); p1 can', async () => {
      const p2 = bearer(await tokenFor('platform', { platformId: 'other-platform', sub: 'p2' }));
      const c = cid('owner');
      const award = ev.award(c, '2021-09-13');
      expect((await post(award)).status).toBe(202);

      const foreign = ev.signed(c, '2021-09-20');
      const r1 = await post(foreign, p2);
      expect({ status: r1.status, code: r1.body.code }).toEqual({
        status: 409,
        code: 'CONTRACT.OWNED_BY_ANOTHER_PLATFORM',
      });
      const retraction = ev.retracted(c, '2021-09-21', award.eventId);
      const r2 = await post([retraction], p2);
      expect((r2.body.results as Result[])[0]).toEqual(
        expect.objectContaining({ status: 'rejected', code: 'CONTRACT.OWNED_BY_ANOTHER_PLATFORM' }),
      );
      expect(await storedTypes(c)).toEqual(['AwardNoticeIssued']);
      const kept = await db.query(
        `SELECT event_id, source FROM rejected_events WHERE code = 'CONTRACT.OWNED_BY_ANOTHER_PLATFORM' AND contract_id = $1 ORDER BY id`,
        [c],
      );
      expect(kept.rows.map((r: { event_id: string }) => r.event_id)).toEqual([
        foreign.eventId,
        retraction.eventId,
      ]);
      expect(kept.rows[0].source).toEqual(
        expect.objectContaining({ platformId: 'other-platform' }),
      );

      expect((await post(ev.signed(c, '2021-09-20'))).status).toBe(202);
      // a new contract of p2's own is p2's
      expect((await post(ev.award(cid('owner2'), '2021-09-13'), p2)).status).toBe(202);
    });
  });
});

// ---------------------------------------------------------------------------------------
describe('database unavailable (e2e)', () => {
  let t: TestApp;
  let proxy: DbProxy;
  let app: InProcessApp;

  beforeAll(async () => {
    t = await startTestApp(); // creates and migrates the database
    proxy = new DbProxy(Number(new URL(t.db.url).port || 5432));
    await proxy.start();
    app = await startInProcessApp(proxy.urlFor(t.db.url), {
      JWT_SECRET: t.config.auth.secret!,
      ROLE_PROJECTOR: 'false',
      LOG_LEVEL: 'error',
      RATE_LIMIT_INGEST_PER_MIN: '1000000',
      RATE_LIMIT_QUERY_PER_MIN: '1000000',
    });
  });
  afterAll(async () => {
    await app?.close().catch(() => undefined);
    await proxy?.stop();
    await t?.close();
  });

  it('answers 503 SERVICE.UNAVAILABLE with Retry-After (never 500) while it is away, and serves again after', async () => {
    const c = cid('outage');
    expect(
      (
        await request(app.url)
          .post('/v1/events')
          .set(auth('platform'))
          .send(ev.award(c, '2021-09-13'))
      ).status,
    ).toBe(202);
    await proxy.stop();
    try {
      const writes = await request(app.url)
        .post('/v1/events')
        .set(auth('platform'))
        .send(ev.signed(c, '2021-09-20'));
      const batch = await request(app.url)
        .post('/v1/events')
        .set(auth('platform'))
        .send([ev.signed(cid('outage2'), '2021-09-20')]);
      const reads = await request(app.url).get(`/v1/contracts/${c}`).set(auth('inspector'));
      const ranking = await request(app.url).get('/v1/units').set(auth('inspector'));
      for (const res of [writes, batch, reads, ranking]) {
        expect({ status: res.status, code: res.body.code }).toEqual({
          status: 503,
          code: 'SERVICE.UNAVAILABLE',
        });
        expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      }
      const health = await request(app.url).get('/health');
      expect(health.status).toBe(503);
    } finally {
      await proxy.restart();
    }
    let status = 0;
    for (let i = 0; i < 50 && status !== 202; i++) {
      status = (
        await request(app.url)
          .post('/v1/events')
          .set(auth('platform'))
          .send(ev.signed(c, '2021-09-20'))
      ).status;
      if (status !== 202) await new Promise((r) => setTimeout(r, 200));
    }
    expect(status).toBe(202);
  });
});
