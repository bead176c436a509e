/**
 * POST /v1/events and GET /v1/contracts/{id}/events end to end: bad input: a 4xx with a stable code and a field path, never a 5xx.
 * The real application on a fresh PostgreSQL database, driven over HTTP (SPEC §2, §4).
 */
import { randomUUID } from 'node:crypto';
import { creditCode, ev } from '@app/testing';
import {
  NOW,
  FIVE_MIN,
  VALID_CREDIT_CODE,
  BAD_CHECK_DIGIT,
  STABLE_CODE,
  cid,
  plain,
  expectErrorShape,
  detailPaths,
  ingestionApp,
  type Body,
} from './support';

describe('POST /v1/events — bad input: a 4xx with a stable code and a field path, never a 5xx (e2e)', () => {
  const app = ingestionApp();
  const { post, postRaw, storedIds } = app;

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

      if (typeof body.contractId === 'string' && /^[A-Za-z0-9._:/-]{1,64}$/.test(body.contractId)) {
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
    ['occurredAt exactly 5 minutes ahead', () => ({ ...base(), occurredAt: iso(NOW + FIVE_MIN) })],
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
