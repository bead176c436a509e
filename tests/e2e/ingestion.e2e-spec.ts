/**
 * POST /v1/events and GET /v1/contracts/{id}/events end to end (issue "Foundation"):
 * the real application on a fresh PostgreSQL database, driven over HTTP.
 * SPEC §2 (envelope, event types, singletons, retraction) and §4 (shapes, error shape).
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { Client } from 'pg';
import request from 'supertest';
import { creditCode, ev, type Envelope } from '@app/testing';
import type { Clock } from '@app/platform';
import { startTestApp, type TestApp } from '../support/test-app';
import { auth, TEST_PLATFORM_ID } from '../support/auth';

/** The service's clock is fixed so that the "future" checks have exact boundaries. */
const NOW = Date.parse('2026-11-26T12:00:00Z');
const clock: Clock = { now: () => NOW };
const FIVE_MIN = 5 * 60 * 1000;

const VALID_CREDIT_CODE = '91500102MA5U7QXX2B';
const BAD_CHECK_DIGIT = '91500102MA5U7QXX2C';
const ERROR_KEYS = ['statusCode', 'code', 'message', 'details', 'correlationId'];
const STABLE_CODE = /^[A-Z]+(\.[A-Z_]+)+$/;

let seq = 0;
/** A contract id unique to this run, so that tests never see each other's streams. */
const cid = (tag: string) => `CQ-FL-2021-${tag}-${++seq}`;

type Body = Record<string, unknown>;

/** Deep copy of an envelope, as a plain JSON object the tests may mutate. */
const plain = (e: Envelope): Body => JSON.parse(JSON.stringify(e)) as Body;

function expectErrorShape(res: request.Response, statusCode: number, code: string): void {
  expect({ status: res.status, code: res.body?.code }).toEqual({ status: statusCode, code });
  expect(res.headers['content-type']).toMatch(/application\/json/);
  expect(res.body).toEqual(
    expect.objectContaining({
      statusCode,
      code,
      message: expect.any(String),
      correlationId: expect.any(String),
    }),
  );
  for (const k of Object.keys(res.body)) expect(ERROR_KEYS).toContain(k);
}

/** Field paths of a single-envelope error body (`details`: [{path, message}]). */
function detailPaths(res: request.Response): string[] {
  const details = res.body?.details as Array<{ path: string; message: string }> | undefined;
  expect(Array.isArray(details)).toBe(true);
  for (const d of details!)
    expect(d).toEqual({ path: expect.any(String), message: expect.any(String) });
  return details!.map((d) => d.path);
}

describe('POST /v1/events and GET /v1/contracts/{id}/events (e2e)', () => {
  let t: TestApp;
  let db: Client;

  beforeAll(async () => {
    t = await startTestApp({ clock });
    db = new Client({ connectionString: t.db.url });
    await db.connect();
  });
  afterAll(async () => {
    await db?.end();
    await t?.close();
  });

  const post = (body: unknown) =>
    request(t.url)
      .post('/v1/events')
      .set(auth('platform'))
      .send(body as object);
  /** Sends the body text exactly as given. */
  const postRaw = (text: string, contentType = 'application/json') =>
    request(t.url)
      .post('/v1/events')
      .set(auth('platform'))
      .set('Content-Type', contentType)
      .send(text);
  const history = (contractId: string) =>
    request(t.url)
      .get(`/v1/contracts/${encodeURIComponent(contractId)}/events`)
      .set(auth('inspector'));
  const storedIds = async (contractId: string): Promise<string[]> => {
    const res = await history(contractId);
    if (res.status === 404 && res.body?.code === 'CONTRACT.NOT_FOUND') return [];
    expect(res.status).toBe(200);
    return (res.body.events as Array<{ eventId: string }>).map((e) => e.eventId);
  };
  const accept = async (e: Envelope | Body) => {
    const res = await post(e);
    expect({ status: res.status, body: res.body }).toEqual({
      status: 202,
      body: expect.objectContaining({ eventId: e.eventId, status: 'accepted' }),
    });
    return res;
  };

  // ---------------------------------------------------------------------------------------
  describe('single envelope: accepted, duplicate, conflicts', () => {
    it('answers 202 {eventId, status: accepted} and stores the event', async () => {
      const c = cid('single');
      const e = ev.signed(c, '2021-09-30T15:20:00+08:00', '1250000.00', '0.30');
      const res = await post(e);
      expect(res.status).toBe(202);
      expect(res.body).toEqual(expect.objectContaining({ eventId: e.eventId, status: 'accepted' }));
      expect(await storedIds(c)).toEqual([e.eventId]);
    });

    it('answers 200 duplicate for the same eventId again (even with other content or upper case), stored once', async () => {
      const c = cid('dup');
      const e = ev.signed(c, '2021-09-30');
      await accept(e);
      const again = await post(e);
      expect(again.status).toBe(200);
      expect(again.body).toEqual(
        expect.objectContaining({ eventId: e.eventId, status: 'duplicate' }),
      );
      // the eventId is the idempotency key, whatever the content
      const changed = await post({
        ...e,
        occurredAt: '2021-10-02T10:00:00+08:00',
        data: { amount: '1.00' },
      });
      expect(changed.status).toBe(200);
      expect(changed.body.status).toBe('duplicate');
      const upper = await post({ ...e, eventId: e.eventId.toUpperCase() });
      expect(upper.status).toBe(200);
      expect(upper.body.status).toBe('duplicate');
      // … and whatever the contract it names
      const other = cid('dup-other');
      const elsewhere = await post({ ...e, contractId: other });
      expect(elsewhere.status).toBe(200);
      expect(elsewhere.body.status).toBe('duplicate');
      expect(await storedIds(other)).toEqual([]);
      expect(await storedIds(c)).toEqual([e.eventId]);
      const n = await db.query('SELECT count(*)::int AS n FROM events WHERE event_id = $1', [
        e.eventId,
      ]);
      expect(n.rows[0].n).toBe(1);
    });

    it('concurrent requests: one eventId sent 8 times is stored once; 8 different signings of one contract, one wins', async () => {
      const c = cid('race');
      const e = ev.signed(c, '2021-09-30');
      const same = await Promise.all(Array.from({ length: 8 }, () => post(e)));
      expect(same.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 202]);
      expect(await storedIds(c)).toEqual([e.eventId]);

      const c2 = cid('race');
      const signings = Array.from({ length: 8 }, (_, i) =>
        ev.signed(c2, '2021-09-30', `${i + 1}00.00`),
      );
      const answers = await Promise.all(signings.map((s) => post(s)));
      expect(answers.map((r) => r.status).sort()).toEqual([202, 409, 409, 409, 409, 409, 409, 409]);
      for (const r of answers.filter((x) => x.status === 409))
        expect(r.body.code).toBe('CONTRACT.ALREADY_SIGNED');
      const winner = signings[answers.findIndex((r) => r.status === 202)];
      expect(await storedIds(c2)).toEqual([winner.eventId]);
    });

    it('echoes the caller correlation id in the error body', async () => {
      const res = await request(t.url)
        .post('/v1/events')
        .set(auth('platform'))
        .set('x-correlation-id', 'corr-e2e-42')
        .send({ ...ev.signed(cid('corr'), '2021-09-30'), eventId: 'nope' });
      expectErrorShape(res, 400, 'EVENT.INVALID_PAYLOAD');
      expect(res.body.correlationId).toBe('corr-e2e-42');
      expect(res.headers['x-correlation-id']).toBe('corr-e2e-42');
    });

    const singletons: Array<[string, string, (c: string, d: string) => Envelope]> = [
      ['AwardNoticeIssued', 'CONTRACT.ALREADY_AWARDED', (c, d) => ev.award(c, d)],
      ['ContractSigned', 'CONTRACT.ALREADY_SIGNED', (c, d) => ev.signed(c, d)],
      ['ContractAnnounced', 'CONTRACT.ALREADY_ANNOUNCED', (c, d) => ev.announced(c, d)],
      ['ContractFiled', 'CONTRACT.ALREADY_FILED', (c, d) => ev.filed(c, d)],
      [
        'PerformanceCompleted',
        'CONTRACT.PERFORMANCE_ALREADY_COMPLETED',
        (c, d) => ev.performed(c, d),
      ],
      [
        'AcceptanceCompleted{passed:true}',
        'CONTRACT.ALREADY_ACCEPTED',
        (c, d) => ev.accepted(c, d, true),
      ],
      ['ContractTerminated', 'CONTRACT.ALREADY_TERMINATED', (c, d) => ev.terminated(c, d)],
    ];

    it.each(singletons)(
      'a second %s with another eventId is 409 %s until the first is retracted',
      async (_type, code, make) => {
        const c = cid('singleton');
        const first = make(c, '2021-09-20');
        await accept(first);

        const second = make(c, '2021-09-22');
        const conflict = await post(second);
        expectErrorShape(conflict, 409, code);
        expect(await storedIds(c)).toEqual([first.eventId]);

        // retracting the first one frees the slot
        const retraction = ev.retracted(c, '2021-09-23', first.eventId);
        await accept(retraction);
        await accept(second);
        expect(await storedIds(c)).toEqual([first.eventId, retraction.eventId, second.eventId]);

        // and the replacement is a singleton again
        expectErrorShape(await post(make(c, '2021-09-24')), 409, code);
      },
    );

    it('a failed acceptance may repeat; a passed one after them is accepted, a second passed one is 409', async () => {
      const c = cid('acceptance');
      await accept(ev.performed(c, '2021-10-08'));
      await accept(ev.accepted(c, '2021-10-09', false));
      await accept(ev.accepted(c, '2021-10-11', false));
      await accept(ev.accepted(c, '2021-10-12', true));
      await accept(ev.accepted(c, '2021-10-13', false));
      expectErrorShape(
        await post(ev.accepted(c, '2021-10-14', true)),
        409,
        'CONTRACT.ALREADY_ACCEPTED',
      );
      expect(await storedIds(c)).toHaveLength(5);
    });

    it('an invoice number and a payment id may be used once per contract', async () => {
      const c = cid('inv');
      await accept(ev.invoice(c, '2021-10-01', 'INV-001', '100.00'));
      expectErrorShape(
        await post(ev.invoice(c, '2021-10-02', 'INV-001', '200.00')),
        409,
        'CONTRACT.INVOICE_ALREADY_RECEIVED',
      );
      await accept(ev.invoice(c, '2021-10-02', 'INV-002', '200.00'));
      await accept(ev.payment(c, '2021-10-03', 'PAY-001', '100.00', 'progress', 'INV-001'));
      expectErrorShape(
        await post(ev.payment(c, '2021-10-04', 'PAY-001', '200.00')),
        409,
        'CONTRACT.PAYMENT_ALREADY_RECORDED',
      );
      // the same numbers on another contract are fine
      await accept(ev.invoice(cid('inv-other'), '2021-10-01', 'INV-001', '100.00'));
    });

    it('doubtful facts are accepted (signed before the award, paid without invoice): a monitor does not refuse evidence', async () => {
      const c = cid('doubtful');
      await accept(ev.signed(c, '2021-09-10'));
      await accept(ev.award(c, '2021-09-13'));
      await accept(ev.payment(c, '2021-09-14', 'PAY-X', '999999.00', 'final'));
    });

    it('retraction of an event of another contract, twice, or of a retraction is 409', async () => {
      const c = cid('retract');
      const signed = ev.signed(c, '2021-09-20');
      await accept(signed);

      const other = cid('retract-other');
      const otherSigned = ev.signed(other, '2021-09-20');
      await accept(otherSigned);
      expectErrorShape(
        await post(ev.retracted(c, '2021-09-21', otherSigned.eventId)),
        409,
        'CONTRACT.RETRACTED_EVENT_NOT_FOUND',
      );

      const r1 = ev.retracted(c, '2021-09-21', signed.eventId.toUpperCase());
      await accept(r1);
      expectErrorShape(
        await post(ev.retracted(c, '2021-09-22', signed.eventId)),
        409,
        'CONTRACT.EVENT_ALREADY_RETRACTED',
      );
      expectErrorShape(
        await post(ev.retracted(c, '2021-09-22', r1.eventId)),
        409,
        'CONTRACT.RETRACTION_NOT_RETRACTABLE',
      );
      const res = await history(c);
      expect(
        res.body.events.map((e: { eventId: string; retracted: boolean }) => [
          e.eventId,
          e.retracted,
        ]),
      ).toEqual([
        [signed.eventId, true],
        [r1.eventId, false],
      ]);
    });

    it('accepts a retraction before the event it names: that event is void when it arrives, and claims nothing', async () => {
      const c = cid('retract-ahead');
      const wrong = ev.payment(c, '2021-09-14', 'PAY-1', '100.00', 'progress');
      const fixed = ev.payment(c, '2021-09-14', 'PAY-1', '90.00', 'progress');
      const r = ev.retracted(c, '2021-09-15', wrong.eventId);
      await accept(r);
      await accept(fixed); // after the retraction: PAY-1 is free
      await accept(wrong); // arrives last, void at once: no conflict with the corrected PAY-1
      await accept(ev.retracted(c, '2021-09-16', randomUUID())); // names nothing received yet
      expectErrorShape(
        await post(ev.retracted(c, '2021-09-16', wrong.eventId)),
        409,
        'CONTRACT.EVENT_ALREADY_RETRACTED',
      );
      const res = await history(c);
      const byId = new Map(
        res.body.events.map((e: { eventId: string; retracted: boolean }) => [
          e.eventId,
          e.retracted,
        ]),
      );
      expect([byId.get(wrong.eventId), byId.get(fixed.eventId), byId.get(r.eventId)]).toEqual([
        true,
        false,
        false,
      ]);
    });

    it('a platform may not post ObligationExempted: 400 EVENT.NOT_ALLOWED_ON_INGESTION, nothing stored', async () => {
      const c = cid('exempt');
      const e = {
        eventId: randomUUID(),
        type: 'ObligationExempted',
        contractId: c,
        occurredAt: '2021-10-20T10:00:00+08:00',
        schemaVersion: 1,
        data: { rule: 'payment', key: 'payment:INV-001', reason: '正当理由' },
      };
      expectErrorShape(await post(e), 400, 'EVENT.NOT_ALLOWED_ON_INGESTION');
      const batch = await post([e]);
      expect(batch.status).toBe(200);
      expect(batch.body.results[0]).toEqual(
        expect.objectContaining({
          eventId: e.eventId,
          status: 'rejected',
          code: 'EVENT.NOT_ALLOWED_ON_INGESTION',
        }),
      );
      expect(await storedIds(c)).toEqual([]);
    });
  });

  // ---------------------------------------------------------------------------------------
  describe('array body', () => {
    it('answers 200 {results} with one result per event, in order; code and errors only on rejected ones', async () => {
      const c = cid('batch');
      const stored = ev.award(c, '2021-09-13');
      await accept(stored);
      const signed = ev.signed(c, '2021-09-20');
      const invalid = {
        ...ev.invoice(c, '2021-09-21', 'INV-1', '10.00'),
        data: { invoiceNo: 'INV-1', amount: 12.5, stage: 'final' },
      };
      const secondSigning = ev.signed(c, '2021-09-22');
      const filed = ev.filed(c, '2021-09-23');
      const body = [signed, stored, invalid, secondSigning, signed, filed, null];

      const res = await post(body);
      expect(res.status).toBe(200);
      expect(Object.keys(res.body)).toEqual(['results']);
      const results = res.body.results as Array<Record<string, unknown>>;
      expect(results).toHaveLength(body.length);
      expect(results[0]).toEqual({ eventId: signed.eventId, status: 'accepted' });
      expect(results[1]).toEqual({ eventId: stored.eventId, status: 'duplicate' });
      expect(results[2]).toEqual(
        expect.objectContaining({
          eventId: invalid.eventId,
          status: 'rejected',
          code: 'EVENT.INVALID_PAYLOAD',
          errors: [{ path: 'data.amount', message: expect.any(String) }],
        }),
      );
      expect(results[3]).toEqual(
        expect.objectContaining({
          eventId: secondSigning.eventId,
          status: 'rejected',
          code: 'CONTRACT.ALREADY_SIGNED',
          errors: [],
        }),
      );
      expect(results[4]).toEqual({ eventId: signed.eventId, status: 'duplicate' }); // same id earlier in the batch
      expect(results[5]).toEqual({ eventId: filed.eventId, status: 'accepted' });
      expect(results[6]).toEqual(
        expect.objectContaining({
          status: 'rejected',
          code: 'EVENT.INVALID_PAYLOAD',
          errors: expect.any(Array),
        }),
      );
      for (const r of results) {
        if (r.status !== 'rejected') expect(Object.keys(r).sort()).toEqual(['eventId', 'status']);
      }
      expect(await storedIds(c)).toEqual([stored.eventId, signed.eventId, filed.eventId]);
    });

    it('a retraction and the new signing may follow the retracted one in the same array', async () => {
      const c = cid('batch-retract');
      const s1 = ev.signed(c, '2021-09-20', '100.00');
      const r = ev.retracted(c, '2021-09-21', s1.eventId);
      const s2 = ev.signed(c, '2021-09-21', '200.00');
      const res = await post([s1, r, s2]);
      expect(res.status).toBe(200);
      expect(res.body.results.map((x: { status: string }) => x.status)).toEqual([
        'accepted',
        'accepted',
        'accepted',
      ]);
    });

    it('rejects each non-object element with a code', async () => {
      const res = await post([null, 1, 'x', [], true]);
      expect(res.status).toBe(200);
      expect(res.body.results).toHaveLength(5);
      for (const r of res.body.results) {
        expect(r).toEqual(
          expect.objectContaining({
            status: 'rejected',
            code: 'EVENT.INVALID_PAYLOAD',
            errors: expect.any(Array),
          }),
        );
      }
    });

    it('takes exactly 1,000 events', async () => {
      const events = Array.from({ length: 1000 }, (_, i) =>
        ev.filed(`CQ-FL-2021-K${i}`, '2021-09-30'),
      );
      const res = await post(events);
      expect(res.status).toBe(200);
      expect(res.body.results).toHaveLength(1000);
      expect(res.body.results.every((r: { status: string }) => r.status === 'accepted')).toBe(true);
    });

    it('answers 413 with a code for 1,001 events, and stores none of them', async () => {
      const c = cid('too-many');
      const events = Array.from({ length: 1001 }, (_, i) =>
        ev.invoice(c, '2021-09-30', `INV-${i}`, '1.00'),
      );
      const res = await post(events);
      expectErrorShape(res, 413, 'EVENT.BATCH_TOO_LARGE');
      expect(await storedIds(c)).toEqual([]);
    });

    it('answers 400 with a code for an empty array', async () => {
      const res = await post([]);
      expect(res.status).toBe(400);
      expectErrorShape(res, 400, res.body.code);
      expect(res.body.code).toMatch(STABLE_CODE);
    });
  });

  // ---------------------------------------------------------------------------------------
  describe('bad input: a 4xx with a stable code and a field path, never a 5xx', () => {
    const base = () =>
      plain(ev.signed(cid('bad'), '2021-09-30T15:20:00+08:00', '1250000.00', '0.30'));
    const award = () =>
      plain(ev.award(cid('bad'), '2021-09-13', { supplierCode: VALID_CREDIT_CODE }));
    const withData = (e: Body, patch: Body): Body => ({
      ...e,
      data: { ...(e.data as Body), ...patch },
    });
    const withSupplier = (patch: Body): Body => {
      const e = award();
      const data = e.data as Body;
      return { ...e, data: { ...data, supplier: { ...(data.supplier as Body), ...patch } } };
    };
    const without = (e: Body, key: string): Body => {
      const copy = { ...e };
      delete copy[key];
      return copy;
    };
    const iso = (ms: number) => new Date(ms).toISOString();
    const inv = (patch: Body) =>
      withData(plain(ev.invoice(cid('bad'), '2021-10-01', 'INV-1', '10.00')), patch);

    const cases: Array<{ name: string; code: string; path: string; make: () => Body }> = [
      // money: decimal strings in yuan, at most 2 decimals, 0 < x <= 1e12
      {
        name: 'money as a JSON number',
        code: 'EVENT.INVALID_PAYLOAD',
        path: 'data.amount',
        make: () => withData(base(), { amount: 12.5 }),
      },
      {
        name: 'money as an integer JSON number',
        code: 'EVENT.INVALID_PAYLOAD',
        path: 'data.amount',
        make: () => withData(base(), { amount: 1250000 }),
      },
      {
        name: 'money with 3 decimals',
        code: 'EVENT.INVALID_PAYLOAD',
        path: 'data.amount',
        make: () => withData(base(), { amount: '12.345' }),
      },
      {
        name: 'money zero',
        code: 'EVENT.INVALID_PAYLOAD',
        path: 'data.amount',
        make: () => withData(base(), { amount: '0' }),
      },
      {
        name: 'money zero with decimals',
        code: 'EVENT.INVALID_PAYLOAD',
        path: 'data.amount',
        make: () => withData(base(), { amount: '0.00' }),
      },
      {
        name: 'money negative',
        code: 'EVENT.INVALID_PAYLOAD',
        path: 'data.amount',
        make: () => withData(base(), { amount: '-12.50' }),
      },
      {
        name: 'money above 1e12 yuan (fen)',
        code: 'EVENT.INVALID_PAYLOAD',
        path: 'data.amount',
        make: () => withData(base(), { amount: '1000000000000.01' }),
      },
      {
        name: 'money above 1e12 yuan',
        code: 'EVENT.INVALID_PAYLOAD',
        path: 'data.amount',
        make: () => withData(base(), { amount: '1000000000001' }),
      },
      {
        name: 'money in exponent form',
        code: 'EVENT.INVALID_PAYLOAD',
        path: 'data.amount',
        make: () => withData(base(), { amount: '1e6' }),
      },
      {
        name: 'money with a thousands separator',
        code: 'EVENT.INVALID_PAYLOAD',
        path: 'data.amount',
        make: () => inv({ amount: '1,000.00' }),
      },
      {
        name: 'award amount as a number',
        code: 'EVENT.INVALID_PAYLOAD',
        path: 'data.awardAmount',
        make: () => withData(award(), { awardAmount: 100 }),
      },
      {
        name: 'missing amount',
        code: 'EVENT.INVALID_PAYLOAD',
        path: 'data.amount',
        make: () => ({ ...base(), data: {} }),
      },
      // occurredAt
      {
        name: 'occurredAt without offset',
        code: 'EVENT.INVALID_PAYLOAD',
        path: 'occurredAt',
        make: () => ({ ...base(), occurredAt: '2021-09-30T15:20:00' }),
      },
      {
        name: 'occurredAt as a date only',
        code: 'EVENT.INVALID_PAYLOAD',
        path: 'occurredAt',
        make: () => ({ ...base(), occurredAt: '2021-09-30' }),
      },
      {
        name: 'occurredAt as epoch number',
        code: 'EVENT.INVALID_PAYLOAD',
        path: 'occurredAt',
        make: () => ({ ...base(), occurredAt: 1632986400000 }),
      },
      {
        name: 'occurredAt on an impossible date',
        code: 'EVENT.INVALID_PAYLOAD',
        path: 'occurredAt',
        make: () => ({ ...base(), occurredAt: '2021-02-29T10:00:00+08:00' }),
      },
      {
        name: 'occurredAt before 2000-01-01',
        code: 'EVENT.INVALID_PAYLOAD',
        path: 'occurredAt',
        make: () => ({ ...base(), occurredAt: '1999-12-31T23:59:59+08:00' }),
      },
      {
        name: 'occurredAt more than 5 minutes in the future',
        code: 'EVENT.OCCURRED_IN_FUTURE',
        path: 'occurredAt',
        make: () => ({ ...base(), occurredAt: iso(NOW + FIVE_MIN + 1000) }),
      },
      {
        name: 'occurredAt next year',
        code: 'EVENT.OCCURRED_IN_FUTURE',
        path: 'occurredAt',
        make: () => ({ ...base(), occurredAt: '2027-01-01T00:00:00+08:00' }),
      },
      // envelope fields
      {
        name: 'eventId not a UUID',
        code: 'EVENT.INVALID_PAYLOAD',
        path: 'eventId',
        make: () => ({ ...base(), eventId: 'not-a-uuid' }),
      },
      {
        name: 'eventId as a number',
        code: 'EVENT.INVALID_PAYLOAD',
        path: 'eventId',
        make: () => ({ ...base(), eventId: 42 }),
      },
      {
        name: 'eventId missing',
        code: 'EVENT.INVALID_PAYLOAD',
        path: 'eventId',
        make: () => without(base(), 'eventId'),
      },
      {
        name: 'contractId of 65 characters',
        code: 'EVENT.INVALID_PAYLOAD',
        path: 'contractId',
        make: () => ({ ...base(), contractId: 'C'.repeat(65) }),
      },
      {
        name: 'contractId with a space',
        code: 'EVENT.INVALID_PAYLOAD',
        path: 'contractId',
        make: () => ({ ...base(), contractId: 'CQ FL 2021' }),
      },
      {
        name: 'contractId with non-ASCII characters',
        code: 'EVENT.INVALID_PAYLOAD',
        path: 'contractId',
        make: () => ({ ...base(), contractId: '合同-2021-1' }),
      },
      {
        name: 'contractId empty',
        code: 'EVENT.INVALID_PAYLOAD',
        path: 'contractId',
        make: () => ({ ...base(), contractId: '' }),
      },
      {
        name: 'contractId missing',
        code: 'EVENT.INVALID_PAYLOAD',
        path: 'contractId',
        make: () => without(base(), 'contractId'),
      },
      {
        name: 'unknown type',
        code: 'EVENT.UNKNOWN_TYPE',
        path: 'type',
        make: () => ({ ...base(), type: 'ContractCancelled' }),
      },
      {
        name: 'type missing',
        code: 'EVENT.INVALID_PAYLOAD',
        path: 'type',
        make: () => without(base(), 'type'),
      },
      {
        name: 'schemaVersion 2',
        code: 'EVENT.UNSUPPORTED_SCHEMA_VERSION',
        path: 'schemaVersion',
        make: () => ({ ...base(), schemaVersion: 2 }),
      },
      {
        name: 'schemaVersion as a string',
        code: 'EVENT.INVALID_PAYLOAD',
        path: 'schemaVersion',
        make: () => ({ ...base(), schemaVersion: '1' }),
      },
      {
        name: 'schemaVersion missing',
        code: 'EVENT.INVALID_PAYLOAD',
        path: 'schemaVersion',
        make: () => without(base(), 'schemaVersion'),
      },
      {
        name: 'correlationId too long',
        code: 'EVENT.INVALID_PAYLOAD',
        path: 'correlationId',
        make: () => ({ ...base(), correlationId: 'x'.repeat(201) }),
      },
      {
        name: 'data as an array',
        code: 'EVENT.INVALID_PAYLOAD',
        path: 'data',
        make: () => ({ ...base(), data: ['1.00'] }),
      },
      {
        name: 'data as a string',
        code: 'EVENT.INVALID_PAYLOAD',
        path: 'data',
        make: () => ({ ...base(), data: 'amount=1.00' }),
      },
      // unknown fields are rejected, not ignored
      {
        name: 'unknown field at top level',
        code: 'EVENT.INVALID_PAYLOAD',
        path: 'priority',
        make: () => ({ ...base(), priority: 'high' }),
      },
      {
        name: 'unknown field inside data',
        code: 'EVENT.INVALID_PAYLOAD',
        path: 'data.discount',
        make: () => withData(base(), { discount: '10.00' }),
      },
      {
        name: 'unknown field in data of a type without data',
        code: 'EVENT.INVALID_PAYLOAD',
        path: 'data.note',
        make: () => ({ ...plain(ev.filed(cid('bad'), '2021-10-01')), data: { note: 'x' } }),
      },
      {
        name: 'unknown field inside data.supplier',
        code: 'EVENT.INVALID_PAYLOAD',
        path: 'data.supplier.phone',
        make: () => withSupplier({ phone: '023-1234567' }),
      },
      // per-type payloads
      {
        name: 'credit code with a wrong check digit',
        code: 'EVENT.INVALID_PAYLOAD',
        path: 'data.supplier.creditCode',
        make: () => withSupplier({ creditCode: BAD_CHECK_DIGIT }),
      },
      {
        name: 'credit code of 17 characters',
        code: 'EVENT.INVALID_PAYLOAD',
        path: 'data.supplier.creditCode',
        make: () => withSupplier({ creditCode: VALID_CREDIT_CODE.slice(0, 17) }),
      },
      {
        name: 'credit code in lower case',
        code: 'EVENT.INVALID_PAYLOAD',
        path: 'data.supplier.creditCode',
        make: () => withSupplier({ creditCode: VALID_CREDIT_CODE.toLowerCase() }),
      },
      {
        name: 'supplier size not in the enum',
        code: 'EVENT.INVALID_PAYLOAD',
        path: 'data.supplier.size',
        make: () => withSupplier({ size: 'tiny' }),
      },
      {
        name: 'supplier missing',
        code: 'EVENT.INVALID_PAYLOAD',
        path: 'data.supplier',
        make: () => ({ ...award(), data: { ...(award().data as Body), supplier: undefined } }),
      },
      {
        name: 'invoice stage not in the enum',
        code: 'EVENT.INVALID_PAYLOAD',
        path: 'data.stage',
        make: () => inv({ stage: 'deposit' }),
      },
      {
        name: 'payment kind not in the enum',
        code: 'EVENT.INVALID_PAYLOAD',
        path: 'data.kind',
        make: () =>
          withData(plain(ev.payment(cid('bad'), '2021-10-01', 'P-1', '1.00')), { kind: 'advance' }),
      },
      {
        name: 'invoiceNo with a space',
        code: 'EVENT.INVALID_PAYLOAD',
        path: 'data.invoiceNo',
        make: () => inv({ invoiceNo: 'INV 1' }),
      },
      {
        name: 'prepaymentRatio above 1',
        code: 'EVENT.INVALID_PAYLOAD',
        path: 'data.prepaymentRatio',
        make: () => withData(base(), { prepaymentRatio: '1.5' }),
      },
      {
        name: 'prepaymentRatio 1.01',
        code: 'EVENT.INVALID_PAYLOAD',
        path: 'data.prepaymentRatio',
        make: () => withData(base(), { prepaymentRatio: '1.01' }),
      },
      {
        name: 'prepaymentRatio negative',
        code: 'EVENT.INVALID_PAYLOAD',
        path: 'data.prepaymentRatio',
        make: () => withData(base(), { prepaymentRatio: '-0.10' }),
      },
      {
        name: 'prepaymentRatio as a number',
        code: 'EVENT.INVALID_PAYLOAD',
        path: 'data.prepaymentRatio',
        make: () => withData(base(), { prepaymentRatio: 0.3 }),
      },
      {
        name: 'acceptance passed as a string',
        code: 'EVENT.INVALID_PAYLOAD',
        path: 'data.passed',
        make: () => withData(plain(ev.accepted(cid('bad'), '2021-10-01')), { passed: 'true' }),
      },
      {
        name: 'retraction of a non-UUID',
        code: 'EVENT.INVALID_PAYLOAD',
        path: 'data.retractedEventId',
        make: () =>
          withData(plain(ev.retracted(cid('bad'), '2021-10-01', randomUUID())), {
            retractedEventId: 'abc',
          }),
      },
      {
        name: 'termination without a reason',
        code: 'EVENT.INVALID_PAYLOAD',
        path: 'data.reason',
        make: () => withData(plain(ev.terminated(cid('bad'), '2021-10-01')), { reason: '' }),
      },
    ];

    it.each(cases)(
      '$name → 400 $code at $path (single), rejected with the same code and path (array)',
      async ({ make, code, path }) => {
        const body = make();
        const single = await post(body);
        expectErrorShape(single, 400, code);
        expect(detailPaths(single)).toContain(path);

        const batch = await post([body]);
        expect(batch.status).toBe(200);
        const [r] = batch.body.results;
        expect(r).toEqual(
          expect.objectContaining({ status: 'rejected', code, errors: expect.any(Array) }),
        );
        expect(r.errors.map((e: { path: string }) => e.path)).toContain(path);

        if (
          typeof body.contractId === 'string' &&
          /^[A-Za-z0-9._:/-]{1,64}$/.test(body.contractId)
        ) {
          expect(await storedIds(body.contractId)).toEqual([]);
        }
      },
    );

    const boundaries: Array<[string, () => Body]> = [
      ['the smallest amount, 0.01', () => withData(base(), { amount: '0.01' })],
      ['the largest amount, 1e12 yuan', () => withData(base(), { amount: '1000000000000.00' })],
      ['an amount with one decimal', () => withData(base(), { amount: '12.5' })],
      ['prepaymentRatio 1', () => withData(base(), { prepaymentRatio: '1' })],
      ['prepaymentRatio 0', () => withData(base(), { prepaymentRatio: '0' })],
      [
        'a contractId of 64 characters of every allowed kind',
        () => ({ ...base(), contractId: `aZ09._:/-${'x'.repeat(55)}` }),
      ],
      [
        'occurredAt at 2000-01-01 00:00 in Shanghai',
        () => ({ ...base(), occurredAt: '2000-01-01T00:00:00+08:00' }),
      ],
      [
        'occurredAt exactly 5 minutes ahead',
        () => ({ ...base(), occurredAt: iso(NOW + FIVE_MIN) }),
      ],
      [
        'occurredAt with milliseconds and a negative offset',
        () => ({ ...base(), occurredAt: '2021-09-30T02:20:00.250-05:00' }),
      ],
      ['an upper-case eventId', () => ({ ...base(), eventId: randomUUID().toUpperCase() })],
      ['a correlationId', () => ({ ...base(), correlationId: 'batch 7 / 合同' })],
      ['the credit code 91500102MA5U7QXX2B', () => award()],
      ['a generated credit code', () => withSupplier({ creditCode: creditCode(4242) })],
      [
        'an award without optional fields',
        () => {
          const e = award();
          return {
            ...e,
            data: {
              ...(e.data as Body),
              purchasingUnit: { code: 'U-1', name: '单位' },
              project: { code: 'P-1' },
            },
          };
        },
      ],
      [
        'a ContractFiled without data',
        () => without(plain(ev.filed(cid('ok'), '2021-10-01')), 'data'),
      ],
    ];

    it.each(boundaries)('accepts %s', async (_name, make) => {
      const body = make();
      const res = await post(body);
      expect({ status: res.status, body: res.body }).toEqual({
        status: 202,
        body: expect.objectContaining({ status: 'accepted' }),
      });
      expect(res.body.eventId).toBe(String(body.eventId).toLowerCase());
    });

    it('an event larger than 64 KiB is EVENT.TOO_LARGE', async () => {
      const e = {
        ...plain(ev.announced(cid('big'), '2021-10-01')),
        data: { url: `https://example.org/${'a'.repeat(70 * 1024)}` },
      };
      const res = await post(e);
      expectErrorShape(res, 400, 'EVENT.TOO_LARGE');
      expect(detailPaths(res).length).toBeGreaterThan(0);
      const batch = await post([e, ev.filed(cid('big'), '2021-10-01')]);
      expect(batch.status).toBe(200);
      expect(
        batch.body.results.map((r: { status: string; code?: string }) => [r.status, r.code]),
      ).toEqual([
        ['rejected', 'EVENT.TOO_LARGE'],
        ['accepted', undefined],
      ]);
    });

    it('the 64 KiB limit is on the UTF-8 bytes of the event', async () => {
      // 22,000 CJK characters are 66,000 bytes: too large although far fewer than 65,536 characters
      const cjk = {
        ...plain(ev.terminated(cid('big'), '2021-10-01')),
        data: { reason: '合'.repeat(22_000) },
      };
      expectErrorShape(await post(cjk), 400, 'EVENT.TOO_LARGE');
      // exactly 65,536 bytes is not "too large" (it is rejected for the over-long url instead)
      const e = { ...plain(ev.announced(cid('big'), '2021-10-01')), data: { url: '' } };
      const pad = 64 * 1024 - Buffer.byteLength(JSON.stringify(e), 'utf8');
      (e.data as Body).url = 'a'.repeat(pad);
      expect(Buffer.byteLength(JSON.stringify(e), 'utf8')).toBe(64 * 1024);
      const atLimit = await post(e);
      expectErrorShape(atLimit, 400, 'EVENT.INVALID_PAYLOAD');
      expect(detailPaths(atLimit)).toEqual(['data.url']);
      (e.data as Body).url = 'a'.repeat(pad + 1);
      expectErrorShape(await post(e), 400, 'EVENT.TOO_LARGE');
    });

    it.each([
      ['arrays', 5_000, (d: number) => `{"amount":"1.00","x":${'['.repeat(d)}${']'.repeat(d)}}`],
      [
        'objects',
        5_000,
        (d: number) => `{"amount":"1.00","x":${'{"a":'.repeat(d)}1${'}'.repeat(d)}}`,
      ],
      ['arrays', 30_000, (d: number) => `{"amount":"1.00","x":${'['.repeat(d)}${']'.repeat(d)}}`],
    ] as const)(
      '%s nested %d deep inside data (well under 64 KiB) are a 4xx, not a crash',
      async (_name, depth, nest) => {
        const e = plain(ev.signed(cid('deep'), '2021-09-30'));
        const text = JSON.stringify({ ...e, data: 'DATA' }).replace('"DATA"', nest(depth));
        expect(Buffer.byteLength(text)).toBeLessThan(64 * 1024);
        const single = await postRaw(text);
        expect(single.status).toBe(400);
        expectErrorShape(single, 400, single.body.code);
        const batch = await postRaw(`[${text}]`);
        expect(batch.status).toBe(200);
        expect(batch.body.results[0]).toEqual(
          expect.objectContaining({ status: 'rejected', code: expect.stringMatching(STABLE_CODE) }),
        );
      },
    );

    it('a body that is not JSON is 400 EVENT.INVALID_JSON', async () => {
      const texts = ['{"eventId":', 'not json', "{'a':1}", '[1,2,]'];
      const seen: Record<string, string> = {};
      for (const text of texts) {
        const res = await postRaw(text);
        seen[text] = `${res.status} ${res.body?.code}`;
        expect(res.body).toEqual(
          expect.objectContaining({
            statusCode: 400,
            message: expect.any(String),
            correlationId: expect.any(String),
          }),
        );
      }
      expect(seen).toEqual(Object.fromEntries(texts.map((x) => [x, '400 EVENT.INVALID_JSON'])));
    });

    it('a JSON scalar or null body is 400 with a code', async () => {
      for (const text of ['null', '42', '"ContractSigned"', 'true', '']) {
        const res = await postRaw(text);
        expect(res.status).toBe(400);
        expectErrorShape(res, 400, res.body.code);
        expect(res.body.code).toMatch(STABLE_CODE);
      }
    });

    it('a content type other than JSON is 415', async () => {
      const text = JSON.stringify(ev.signed(cid('ct'), '2021-09-30'));
      for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
        const res = await postRaw(text, type);
        expect(res.status).toBe(415);
        expectErrorShape(res, 415, res.body.code);
        expect(res.body.code).toMatch(STABLE_CODE);
      }
      // application/json with a charset is JSON
      const ok = await postRaw(
        JSON.stringify(ev.signed(cid('ct'), '2021-09-30')),
        'application/json; charset=utf-8',
      );
      expect(ok.status).toBe(202);
    });

    // JSON.parse makes "__proto__" and "constructor" ordinary own keys; they are unknown
    // fields like any other and must be rejected, never ignored nor crash the request.
    const protoKeys: Array<{ name: string; text: () => string; path: string }> = [
      {
        name: '"__proto__" at top level',
        text: () => JSON.stringify(base()).replace(/^\{/, '{"__proto__":{"x":1},'),
        path: '__proto__',
      },
      {
        name: '"__proto__" inside data',
        text: () =>
          JSON.stringify(base()).replace('"data":{', '"data":{"__proto__":{"amount":"1.00"},'),
        path: 'data.__proto__',
      },
      {
        name: '"constructor" at top level',
        text: () => JSON.stringify({ ...base(), constructor: 'x' }),
        path: 'constructor',
      },
      {
        name: '"constructor" inside data',
        text: () => JSON.stringify(withData(base(), { constructor: 'x' })),
        path: 'data.constructor',
      },
      {
        name: '"toString" at top level',
        text: () => JSON.stringify({ ...base(), toString: 'x' }),
        path: 'toString',
      },
      {
        name: '"hasOwnProperty" inside data',
        text: () => JSON.stringify(withData(base(), { hasOwnProperty: 1 })),
        path: 'data.hasOwnProperty',
      },
      {
        name: '"constructor" (object) inside data.supplier',
        text: () => JSON.stringify(withSupplier({ constructor: {} })),
        path: 'data.supplier.constructor',
      },
    ];

    it.each(protoKeys)(
      '$name is rejected as an unknown field at $path, single and in an array',
      async ({ text, path }) => {
        const single = await postRaw(text());
        expectErrorShape(single, 400, 'EVENT.INVALID_PAYLOAD');
        expect(detailPaths(single)).toContain(path);

        // one poisoned event must not sink the others of its array
        const sibling = ev.filed(cid('proto-sibling'), '2021-10-01');
        const batch = await postRaw(`[${text()},${JSON.stringify(sibling)}]`);
        expect(batch.status).toBe(200);
        expect(batch.body.results[0]).toEqual(
          expect.objectContaining({ status: 'rejected', code: 'EVENT.INVALID_PAYLOAD' }),
        );
        expect(batch.body.results[1]).toEqual({ eventId: sibling.eventId, status: 'accepted' });
      },
    );
  });

  // ---------------------------------------------------------------------------------------
  describe('property: random malformed bodies never cause a 5xx', () => {
    const builders: Array<(c: string) => Envelope> = [
      (c) => ev.award(c, '2021-09-13'),
      (c) => ev.signed(c, '2021-09-20', '1250000.00', '0.30'),
      (c) => ev.announced(c, '2021-09-21'),
      (c) => ev.filed(c, '2021-09-22'),
      (c) => ev.performed(c, '2021-10-08'),
      (c) => ev.accepted(c, '2021-10-09', false),
      (c) => ev.invoice(c, '2021-10-10', 'INV-1', '100.00', 'final'),
      (c) => ev.payment(c, '2021-10-11', 'PAY-1', '100.00', 'final', 'INV-1'),
      (c) => ev.terminated(c, '2021-10-12'),
      (c) => ev.retracted(c, '2021-10-12', randomUUID()),
    ];
    const envelopeKeys = [
      'eventId',
      'type',
      'contractId',
      'occurredAt',
      'schemaVersion',
      'correlationId',
      'data',
    ];
    const dataKeys = [
      'amount',
      'prepaymentRatio',
      'awardAmount',
      'supplier',
      'purchasingUnit',
      'project',
      'passed',
      'invoiceNo',
      'stage',
      'kind',
      'paymentId',
      'reason',
      'retractedEventId',
      'url',
    ];

    type Mutation =
      | { kind: 'drop'; key: string }
      | { kind: 'replace'; key: string; value: unknown }
      | { kind: 'dropData'; key: string }
      | { kind: 'replaceData'; key: string; value: unknown }
      | { kind: 'extra'; key: string; value: unknown };

    const value = fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.constantFrom(
        '',
        ' ',
        '0',
        '-1',
        '1e3',
        '12.345',
        'NaN',
        '2021-09-30',
        '9999-12-31T23:59:59Z',
        'ContractSigned',
        'x'.repeat(300),
      ),
      fc.uuid(),
    );
    const mutation: fc.Arbitrary<Mutation> = fc.oneof(
      fc.record({ kind: fc.constant('drop' as const), key: fc.constantFrom(...envelopeKeys) }),
      fc.record({
        kind: fc.constant('replace' as const),
        key: fc.constantFrom(...envelopeKeys),
        value,
      }),
      fc.record({ kind: fc.constant('dropData' as const), key: fc.constantFrom(...dataKeys) }),
      fc.record({
        kind: fc.constant('replaceData' as const),
        key: fc.constantFrom(...dataKeys),
        value,
      }),
      fc.record({ kind: fc.constant('extra' as const), key: fc.string({ maxLength: 12 }), value }),
    );
    /** Keys that name members of Object.prototype: JSON.parse makes them ordinary own keys. */
    const protoKey = fc.constantFrom(
      'constructor',
      '__proto__',
      'toString',
      'hasOwnProperty',
      'valueOf',
      'isPrototypeOf',
    );
    const protoMutation: fc.Arbitrary<Mutation> = fc.oneof(
      mutation,
      fc.record({ kind: fc.constant('extra' as const), key: protoKey, value }),
      fc.record({ kind: fc.constant('replaceData' as const), key: protoKey, value }),
    );
    const mutatedWith = (m: fc.Arbitrary<Mutation>) =>
      fc
        .record({
          builder: fc.nat({ max: builders.length - 1 }),
          mutations: fc.array(m, { minLength: 1, maxLength: 4 }),
          contract: fc.nat({ max: 20 }),
        })
        .map(({ builder, mutations, contract }) => {
          const e = plain(builders[builder](`CQ-PROP-${contract}`));
          for (const x of mutations) {
            const data =
              e.data !== null && typeof e.data === 'object' && !Array.isArray(e.data)
                ? (e.data as Body)
                : null;
            if (x.kind === 'drop') delete e[x.key];
            else if (x.kind === 'replace' || x.kind === 'extra')
              Object.defineProperty(e, x.key, {
                value: x.value,
                enumerable: true,
                writable: true,
                configurable: true,
              });
            else if (data && x.kind === 'dropData') delete data[x.key];
            else if (data && x.kind === 'replaceData')
              Object.defineProperty(data, x.key, {
                value: x.value,
                enumerable: true,
                writable: true,
                configurable: true,
              });
          }
          return e;
        });
    const anyBody = fc.oneof(
      { arbitrary: mutatedWith(mutation), weight: 3 },
      { arbitrary: fc.jsonValue({ maxDepth: 3 }), weight: 1 },
    );

    /** Posts arrays of bodies; every answer must be 200 with one well-formed result per body. */
    const neverFails = (bodies: unknown[]) => async () => {
      const res = await postRaw(`[${bodies.map((b) => JSON.stringify(b) ?? 'null').join(',')}]`);
      if (res.status >= 500) throw new Error(`HTTP ${res.status}: ${JSON.stringify(res.body)}`);
      expect(res.status).toBe(200);
      expect(res.body.results).toHaveLength(bodies.length);
      for (const r of res.body.results as Array<Record<string, unknown>>) {
        expect(['accepted', 'duplicate', 'rejected']).toContain(r.status);
        if (r.status === 'rejected') {
          expect(typeof r.code).toBe('string');
          expect(r.code).toMatch(STABLE_CODE);
          expect(Array.isArray(r.errors)).toBe(true);
          for (const fe of r.errors as unknown[])
            expect(fe).toEqual({ path: expect.any(String), message: expect.any(String) });
        } else {
          expect(r).not.toHaveProperty('code');
          expect(r).not.toHaveProperty('errors');
        }
      }
    };

    it('~300 random bodies in arrays: always 200 with one well-formed result each; every rejection has a code', async () => {
      let posted = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(anyBody, { minLength: 1, maxLength: 9 }), async (bodies) => {
          posted += bodies.length;
          await neverFails(bodies)();
        }),
        { numRuns: 60, seed: 20211001 },
      );
      expect(posted).toBeGreaterThanOrEqual(250);
    });

    it('the same holds with keys named like Object.prototype members (constructor, __proto__, …)', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(mutatedWith(protoMutation), { minLength: 1, maxLength: 5 }),
          async (bodies) => {
            await neverFails(bodies)();
          },
        ),
        { numRuns: 30, seed: 20211002 },
      );
    });

    it('a handful of random bodies sent alone are never 5xx and always carry the error shape', async () => {
      const samples = fc.sample(anyBody, { numRuns: 40, seed: 42 });
      for (const body of samples) {
        const res = await postRaw(JSON.stringify(body));
        expect(res.status).toBeLessThan(500);
        if (res.status >= 400) expectErrorShape(res, res.status, res.body.code);
      }
    });
  });

  // ---------------------------------------------------------------------------------------
  describe('rejected events are kept for audit', () => {
    const rejectedRows = async (eventId: string) =>
      (
        await db.query(
          'SELECT event_id, contract_id, type, code, errors, payload FROM rejected_events WHERE event_id = $1',
          [eventId],
        )
      ).rows;

    it('keeps a validation rejection with its code, field errors and raw payload', async () => {
      const e: Body = { ...plain(ev.signed(cid('audit'), '2021-09-30')), data: { amount: 12.5 } };
      expectErrorShape(await post(e), 400, 'EVENT.INVALID_PAYLOAD');
      const rows = await rejectedRows(String(e.eventId));
      expect(rows).toHaveLength(1);
      expect(rows[0]).toEqual(
        expect.objectContaining({
          contract_id: e.contractId,
          type: 'ContractSigned',
          code: 'EVENT.INVALID_PAYLOAD',
        }),
      );
      expect(rows[0].errors).toEqual([{ path: 'data.amount', message: expect.any(String) }]);
      expect(JSON.parse(rows[0].payload)).toEqual(e);
    });

    it('keeps a conflict (409) with its code and raw payload', async () => {
      const c = cid('audit-409');
      await accept(ev.signed(c, '2021-09-20'));
      const second = ev.signed(c, '2021-09-21', '99.00');
      expectErrorShape(await post(second), 409, 'CONTRACT.ALREADY_SIGNED');
      const rows = await rejectedRows(second.eventId);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toEqual(
        expect.objectContaining({
          contract_id: c,
          type: 'ContractSigned',
          code: 'CONTRACT.ALREADY_SIGNED',
        }),
      );
      expect(JSON.parse(rows[0].payload)).toEqual(second);
    });

    it('keeps rejections from an array, including non-objects', async () => {
      const markerCount = async () =>
        (
          await db.query(
            `SELECT count(*)::int AS n FROM rejected_events WHERE payload IN ('"audit-marker-x"', 'audit-marker-x')`,
          )
        ).rows[0].n;
      const before = await markerCount();
      const e: Body = { ...plain(ev.filed(cid('audit-arr'), '2021-10-01')), schemaVersion: 2 };
      const res = await post([e, 'audit-marker-x']);
      expect(res.status).toBe(200);
      const rows = await rejectedRows(String(e.eventId));
      expect(rows.map((r) => r.code)).toEqual(['EVENT.UNSUPPORTED_SCHEMA_VERSION']);
      const after = await markerCount();
      expect(after - before).toBe(1);
    });

    it('does not keep duplicates (nor accepted events)', async () => {
      const e = ev.signed(cid('audit-dup'), '2021-09-30');
      await accept(e);
      expect((await post(e)).body.status).toBe('duplicate');
      expect((await post([e, e])).body.results.map((r: { status: string }) => r.status)).toEqual([
        'duplicate',
        'duplicate',
      ]);
      expect(await rejectedRows(e.eventId)).toEqual([]);
    });
  });

  // ---------------------------------------------------------------------------------------
  describe('GET /v1/contracts/{id}/events', () => {
    it('returns the stored history in order, with occurredAt as sent, businessDate in Shanghai, recordedAt, data and retracted flags', async () => {
      const c = cid('history');
      const before = Date.now();
      // arrives out of business order: the history is the stored (arrival) order
      const signed = ev.signed(c, '2021-09-30T23:30:00Z', '1250000.00', '0.30');
      const award = ev.award(c, '2021-09-13T10:00:00+08:00', { supplierCode: VALID_CREDIT_CODE });
      const wrongPayment = ev.payment(
        c,
        '2021-09-30T11:30:00-05:00',
        'PAY-1',
        '1.00',
        'prepayment',
      );
      const retraction = ev.retracted(
        c,
        '2021-09-30T15:59:59Z',
        wrongPayment.eventId,
        '金额录入错误',
      );
      const payment = {
        ...ev.payment(c, '2021-10-01T07:59:59.5+08:00', 'PAY-2', '375000.00', 'prepayment'),
        correlationId: 'corr-history-1',
      };
      const sent = [signed, award, wrongPayment, retraction, payment];
      for (const e of sent) await accept(e);
      const after = Date.now();

      const res = await history(c);
      expect(res.status).toBe(200);
      expect(res.body.contractId).toBe(c);
      const events = res.body.events as Array<Record<string, unknown>>;
      expect(events.map((e) => e.eventId)).toEqual(sent.map((e) => e.eventId));
      expect(events.map((e) => e.type)).toEqual(sent.map((e) => e.type));
      expect(events.map((e) => e.occurredAt)).toEqual([
        '2021-09-30T23:30:00Z',
        '2021-09-13T10:00:00+08:00',
        '2021-09-30T11:30:00-05:00',
        '2021-09-30T15:59:59Z',
        '2021-10-01T07:59:59.5+08:00',
      ]);
      expect(events.map((e) => e.businessDate)).toEqual([
        '2021-10-01',
        '2021-09-13',
        '2021-10-01',
        '2021-09-30',
        '2021-10-01',
      ]);
      expect(events.map((e) => e.retracted)).toEqual([false, false, true, false, false]);
      expect(events.map((e) => e.data)).toEqual(sent.map((e) => e.data));
      expect(events.map((e) => e.streamVersion)).toEqual([1, 2, 3, 4, 5]);
      expect(events[4].correlationId).toBe('corr-history-1');
      // the service adds the source: the authenticated platform
      for (const e of events)
        expect(e.source).toEqual(
          expect.objectContaining({ kind: 'http', platformId: TEST_PLATFORM_ID }),
        );
      for (const e of events) {
        expect(e.recordedAt).toEqual(expect.any(String));
        expect(String(e.recordedAt)).toMatch(
          /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/,
        );
        const ms = Date.parse(String(e.recordedAt));
        expect(ms).toBeGreaterThanOrEqual(before - 60_000);
        expect(ms).toBeLessThanOrEqual(after + 60_000);
        expect(e.schemaVersion).toBe(1);
      }
      const recorded = events.map((e) => Date.parse(String(e.recordedAt)));
      expect([...recorded].sort((a, b) => a - b)).toEqual(recorded);
    });

    it('serves contract ids with every allowed character (/, :, ., _)', async () => {
      const c = `CQ/FL:2021.${++seq}_a-b`;
      const e = ev.filed(c, '2021-10-01');
      await accept(e);
      const res = await history(c);
      expect(res.status).toBe(200);
      expect(res.body.events.map((x: { eventId: string }) => x.eventId)).toEqual([e.eventId]);
    });

    it('answers 404 CONTRACT.NOT_FOUND for an unknown contract, and for one that only has rejected events', async () => {
      expectErrorShape(await history('CQ-FL-2021-NO-SUCH'), 404, 'CONTRACT.NOT_FOUND');
      expectErrorShape(await history('x'.repeat(65)), 404, 'CONTRACT.NOT_FOUND');
      const c = cid('only-rejected');
      await post({ ...plain(ev.signed(c, '2021-09-30')), data: { amount: 1 } });
      expectErrorShape(await history(c), 404, 'CONTRACT.NOT_FOUND');
    });
  });
});
