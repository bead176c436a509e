/**
 * POST /v1/events and GET /v1/contracts/{id}/events end to end: property: random malformed bodies never cause a 5xx.
 * The real application on a fresh PostgreSQL database, driven over HTTP (SPEC §2, §4).
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { ev, type Envelope } from '@app/testing';
import { STABLE_CODE, plain, expectErrorShape, ingestionApp, type Body } from './support';

describe('POST /v1/events — property: random malformed bodies never cause a 5xx (e2e)', () => {
  const app = ingestionApp();
  const { postRaw } = app;

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
