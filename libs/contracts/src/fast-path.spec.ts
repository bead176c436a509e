/**
 * The fast path of parseEnvelope (fastValidEvent, payload-checks.ts) against the
 * class-validator path (parseEnvelopeWithClasses): on every valid event we can build and on
 * random mutations of them, the fast path accepts exactly what the classes accept, as the
 * same event; and parseEnvelope answers exactly what the classes answer, errors included.
 */
import 'reflect-metadata';
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { getMetadataStorage } from 'class-validator';
import { generateEvents } from '../../../bench/generator';
import { creditCode, ev, type Envelope } from '../../testing/src/builders';
import {
  ENVELOPE_CHECKS,
  EventEnvelopeDto,
  fastValidEvent,
  parseEnvelope,
  parseEnvelopeWithClasses,
} from './envelope';
import { PAYLOAD_CLASSES } from './event-payloads';
import {
  EVENT_TYPES,
  INVOICE_STAGES,
  MAX_FUTURE_SKEW_MS,
  PAYMENT_CONDITIONS,
  PROCUREMENT_METHODS,
  RULE_IDS,
  SUPPLIER_SIZES,
} from './event-types';
import { CODE_PATTERN } from './event-payloads';
import { MONEY_PATTERN } from './money';
import { PAYLOAD_CHECKS, type Shape } from './payload-checks';

const NOW = Date.parse('2026-11-26T00:00:00Z');
const FIXTURES = path.join(__dirname, '../../../tests/fixtures');

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
const json = (v: unknown): Json => JSON.parse(JSON.stringify(v)) as Json;

let accepted = 0;
let rejected = 0;

/**
 * Both paths on one JSON value; throws with the value when they disagree. With `whole`,
 * parseEnvelope too (for a refused event it is the classes path by construction).
 */
function compare(raw: unknown, whole = true): void {
  const slow = parseEnvelopeWithClasses(raw, NOW);
  const fast = fastValidEvent(raw, NOW);
  const show = () => JSON.stringify(raw).slice(0, 2000);
  if (slow.ok !== (fast !== null)) {
    throw new Error(
      `fast ${fast ? 'accepts' : 'refuses'}, classes ${slow.ok ? 'accept' : 'refuse'}: ${show()}\n` +
        JSON.stringify(slow).slice(0, 1000),
    );
  }
  if (slow.ok) {
    accepted++;
    expect(fast).toStrictEqual(slow.event);
  } else {
    rejected++;
  }
  if (whole) expect(parseEnvelope(raw, NOW)).toStrictEqual(slow);
}

function readFixtures(dir: string): unknown[] {
  return fs
    .readdirSync(path.join(FIXTURES, dir))
    .filter((f) => f.endsWith('.json'))
    .map((f) => {
      const content = JSON.parse(fs.readFileSync(path.join(FIXTURES, dir, f), 'utf8')) as {
        event?: unknown;
      };
      return dir === 'invalid' ? content.event : content;
    });
}

const UUID = '0b6f2c1e-7a43-4d8e-9a55-3e2f1c9d8b10';

/** One event of every type through the builders, and every optional field set somewhere. */
function builderEvents(): Envelope[] {
  const c = 'CQ-FL-2021-000123';
  const d = '2021-09-30';
  const full = (e: Envelope, data: Record<string, unknown>): Envelope => ({
    ...e,
    correlationId: 'corr-1',
    data: { ...e.data, ...data },
  });
  return [
    ev.award(c, d),
    ev.award(c, '2021-09-30T23:30:00Z', { unit: { code: 'U-1', name: '单位' }, size: 'micro' }),
    ev.signed(c, d),
    ev.signed(c, d, '0.01', '1'),
    full(ev.signed(c, d, '999999999999.99', '0.3000'), {
      acceptanceWorkingDays: 60,
      paymentCondition: 'delivery',
      paymentTermDays: 3650,
      lateInterestRate: '0.03650000',
    }),
    ev.announced(c, d),
    full(ev.announced(c, d), { url: 'https://www.ccgp-chongqing.gov.cn/a' }),
    ev.filed(c, d),
    { ...ev.filed(c, d), data: null as unknown as Record<string, unknown> },
    (({ data: _data, ...rest }) => rest)(ev.performed(c, d)) as Envelope,
    ev.performed(c, d),
    ev.accepted(c, d),
    ev.accepted(c, d, false),
    ev.invoice(c, d, 'INV-1', '500000.00', 'prepayment'),
    ev.payment(c, d, 'PAY-1', '500000.00', 'final', 'INV-1'),
    ev.payment(c, d, 'PAY-1', '1', 'prepayment'),
    ev.terminated(c, d),
    ev.retracted(c, d, UUID),
    {
      ...ev.filed(c, d),
      type: 'ObligationExempted',
      data: { rule: 'smePayment', key: 'payment:INV-1', reason: '正当理由' },
    },
    { ...ev.filed(c, d), type: 'ObligationExempted', data: { rule: 'signing', reason: 'r' } },
    {
      ...ev.filed(c, d),
      type: 'ProcurementIntentionPublished',
      data: { url: 'https://x', budgetAmount: '1300000.00' },
    },
    { ...ev.filed(c, d), type: 'ProcurementIntentionPublished', data: {} },
    { ...ev.filed(c, d), type: 'ProcurementNoticePublished', data: { method: 'inquiry' } },
    { ...ev.filed(c, d), type: 'ProcurementNoticePublished', data: {} },
    {
      ...ev.award(c, d),
      eventId: UUID.toUpperCase(),
      occurredAt: '2021-09-30T15:20:00.123456789-05:30',
    },
  ];
}

function generatorEvents(): unknown[] {
  return [
    ...generateEvents({ contracts: 300 }),
    ...generateEvents({ contracts: 100, seed: 7, utcShare: 0.5 }),
  ].map(json);
}

// ---- mutations ----

const at = (ms: number) => new Date(ms).toISOString();
// around every length limit (region 32, method 50, codes 64, key 80, names 200, …)
const LENGTHS = [0, 1, 32, 33, 50, 51, 64, 65, 80, 81, 200, 201, 300, 301, 2000, 2001];
const strings = (unit: string) => LENGTHS.map((n) => unit.repeat(n));
const INTERESTING: Json[] = [
  null,
  true,
  false,
  0,
  1,
  -1,
  1.5,
  2,
  59,
  60,
  61,
  3650,
  3651,
  1e21,
  -0,
  '',
  ' ',
  '1',
  '0',
  '0.00',
  '0.01',
  '0.001',
  '1e3',
  '-1.00',
  '01',
  '1.5',
  '1.555',
  '1000000000000',
  '1000000000000.00',
  '1000000000000.01',
  '999999999999.99',
  '10000000000000',
  ' 1.00',
  '1.00 ',
  '1.00\n',
  '1,000.00',
  '+1',
  '0.30',
  '1.0000',
  '1.00001',
  '0.12345',
  '0.0365',
  '0.00000001',
  '0.000000001',
  '1.00000000',
  '1.000000000',
  creditCode(1),
  creditCode(42).slice(0, 17) + (creditCode(42)[17] === '0' ? '1' : '0'),
  creditCode(7).toLowerCase(),
  creditCode(7).slice(0, 17),
  '91500102MA5U7QXX2B',
  '91500102MA5U7QXXIB',
  UUID,
  UUID.toUpperCase(),
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  '0b6f2c1e-7a43-9d8e-9a55-3e2f1c9d8b10',
  '0b6f2c1e-7a43-0d8e-9a55-3e2f1c9d8b10',
  '0b6f2c1e-7a43-4d8e-7a55-3e2f1c9d8b10',
  '0b6f2c1e7a434d8e9a553e2f1c9d8b10',
  `{${UUID}}`,
  '2021-09-30T15:20:00+08:00',
  '2021-09-30T15:20:00',
  '2021-09-30',
  '2021-02-29T10:00:00+08:00',
  '2020-02-29T10:00:00+08:00',
  '2021-04-31T10:00:00+08:00',
  '2021-09-30T24:00:00Z',
  '2021-09-30T23:60:00Z',
  '2021-09-30T15:20:60Z',
  '2021-09-30T15:20Z',
  '2021-09-30T15:20:00.123456789Z',
  '2021-09-30T15:20:00.1234567890Z',
  '2021-09-30t15:20:00z',
  '2021-09-30 15:20:00Z',
  '2021-09-30T15:20:00+18:00',
  '2021-09-30T15:20:00-18:59',
  '2021-09-30T15:20:00+19:00',
  '2021-09-30T15:20:00+08:60',
  '2021-09-30T15:20:00+0800',
  '2021-13-01T00:00:00Z',
  '2021-00-10T00:00:00Z',
  '1999-12-31T23:59:59+08:00',
  '2000-01-01T00:00:00+08:00',
  '1999-12-31T16:00:00Z',
  '1999-12-31T15:59:59.999Z',
  '0000-01-01T00:00:00Z',
  '9999-12-31T23:59:59Z',
  at(NOW + MAX_FUTURE_SKEW_MS),
  at(NOW + MAX_FUTURE_SKEW_MS + 1),
  at(NOW + MAX_FUTURE_SKEW_MS - 1),
  at(NOW + 3_600_000).replace('Z', '+01:00'),
  ...EVENT_TYPES,
  ...SUPPLIER_SIZES,
  ...INVOICE_STAGES,
  ...RULE_IDS,
  ...PAYMENT_CONDITIONS,
  ...PROCUREMENT_METHODS,
  'Small',
  'sme',
  'contractSigned',
  'U-500102-001',
  'a/b:c.d_e-f',
  'a b',
  '中文',
  '500102',
  '5001-02',
  'x\n',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udc00x',
  'x\ud83d',
  '\ud83d\ude00',
  '\ufe0f',
  '\u2028',
  ...strings('x'),
  ...strings('a\ufe0f'),
  ...strings('\ud83d\ude00'),
  ...strings('\ud83d\ude00\ufe0f'),
  ...strings('\u0001\ufe0f'),
  ...strings('中'),
  '\u0001\ufe0f'.repeat(3000),
  'x'.repeat(70_000),
  {},
  [],
  [1],
  ['a'],
  { a: 1 },
  { code: 'U-1', name: 'n' },
  { creditCode: creditCode(3), name: 'n', size: 'small' },
  { a: { b: { c: { d: { e: { f: { g: { h: { i: 1 } } } } } } } } },
  Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`k${i}`, i])),
];
const KEYS = [
  'extra',
  'amount',
  'reason',
  'url',
  'code',
  'name',
  'data',
  'type',
  'region',
  'key',
  'invoiceNo',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'prototype',
  '',
  '0',
  'a\u0000',
  '\ud800',
  'k'.repeat(300),
];

const value: fc.Arbitrary<Json> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...INTERESTING) },
  fc.string(),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.stringMatching(CODE_PATTERN),
  fc.stringMatching(MONEY_PATTERN),
  fc.uuid({ version: [1, 2, 3, 4, 5, 6, 7, 8] }),
  fc.uuid().map((u) => u.toUpperCase()),
  fc
    .tuple(
      fc.date({ min: new Date('1999-06-01'), max: new Date('2027-01-01'), noInvalidDate: true }),
      fc.integer({ min: -18 * 60, max: 18 * 60 }),
    )
    .map(([d, offset]) => {
      const local = new Date(d.getTime() + offset * 60_000).toISOString().slice(0, 19);
      const a = Math.abs(offset);
      const hh = String(Math.floor(a / 60)).padStart(2, '0');
      const mm = String(a % 60).padStart(2, '0');
      return `${local}${offset < 0 ? '-' : '+'}${hh}:${mm}`;
    }),
);

const TWEAKS: Array<(s: string) => string> = [
  (s) => s.toUpperCase(),
  (s) => s.toLowerCase(),
  (s) => s + ' ',
  (s) => ' ' + s,
  (s) => s + '\n',
  (s) => s + '0',
  (s) => s.slice(0, -1),
  (s) => s.slice(1),
  (s) => s + s,
  (s) => s.replace(/.$/, '\u0000'),
  (s) => s + '\ud800',
  (s) => s.replace('.', ''),
  (s) => s.replace('-', ''),
  (s) => s.padEnd(2001, 'x'),
];
const tweak = fc.constantFrom(...TWEAKS);

type Mutation =
  | {
      op: 'delete' | 'set' | 'add' | 'tweak';
      pick: number;
      key: string;
      v: Json;
      t: (s: string) => string;
    }
  | { op: 'retype'; type: string };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    op: fc.constantFrom<'delete' | 'set' | 'add' | 'tweak'>(
      'delete',
      'set',
      'set',
      'add',
      'tweak',
      'tweak',
    ),
    pick: fc.nat(),
    key: fc.oneof(fc.constantFrom(...KEYS), fc.string({ maxLength: 8 })),
    v: value,
    t: tweak,
  }),
  fc.record({ op: fc.constant('retype' as const), type: fc.constantFrom(...EVENT_TYPES) }),
);

type Node = { [key: string]: Json };
/** Every property of the value: its holder and key. */
function properties(root: Json): Array<[Node, string]> {
  const out: Array<[Node, string]> = [];
  const walk = (node: Json) => {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return;
    for (const key of Object.keys(node)) {
      out.push([node, key]);
      walk(node[key]);
    }
  };
  walk(root);
  return out;
}
function objects(root: Json): Node[] {
  return [root, ...properties(root).map(([o, k]) => o[k])].filter(
    (n): n is Node => n !== null && typeof n === 'object' && !Array.isArray(n),
  );
}

function mutate(root: Json, m: Mutation): void {
  if (m.op === 'retype') {
    if (root !== null && typeof root === 'object' && !Array.isArray(root)) root.type = m.type;
    return;
  }
  if (m.op === 'add') {
    const targets = objects(root);
    // an own property, as JSON.parse makes even of "__proto__"
    Object.defineProperty(targets[m.pick % targets.length], m.key, {
      value: structuredClone(m.v),
      enumerable: true,
      writable: true,
      configurable: true,
    });
    return;
  }
  const props = properties(root);
  if (props.length === 0) return;
  const [holder, key] = props[m.pick % props.length];
  if (m.op === 'delete') delete holder[key];
  else if (m.op === 'set') holder[key] = structuredClone(m.v);
  else {
    const current = holder[key];
    holder[key] = typeof current === 'string' ? m.t(current) : structuredClone(m.v);
  }
}

describe('fast path of parseEnvelope', () => {
  const builders = builderEvents().map(json);
  const validFixtures = readFixtures('valid') as Json[];
  const invalidFixtures = readFixtures('invalid');
  const generated = generatorEvents() as Json[];

  it('accepts every valid event, as the same event as the classes', () => {
    const valid = [...builders, ...validFixtures, ...generated];
    expect(valid.length).toBeGreaterThan(3000);
    for (const raw of valid) {
      expect(fastValidEvent(raw, NOW)).not.toBeNull();
      compare(raw);
    }
  });

  it('agrees with the classes on the invalid fixtures and odd values', () => {
    const odd: unknown[] = [
      null,
      1,
      'x',
      [],
      [builders[0]],
      {},
      JSON.parse(`{"__proto__": {}, ${JSON.stringify(builders[0]).slice(1)}`),
      { ...(builders[2] as object), schemaVersion: 2 },
    ];
    for (const raw of [...invalidFixtures, ...odd]) compare(raw);
  });

  it('agrees with the classes on every single change of every field of every type', () => {
    let changes = 0;
    const change = (base: Json, m: Mutation) => {
      const raw = structuredClone(base);
      mutate(raw, m);
      compare(json(raw), false);
      changes++;
    };
    const same = (x: string) => x;
    for (const base of builders) {
      for (let pick = 0; pick < properties(base).length; pick++) {
        const m = { pick, key: '', v: null, t: same };
        change(base, { ...m, op: 'delete' });
        for (const v of INTERESTING) change(base, { ...m, op: 'set', v });
        for (const t of TWEAKS) change(base, { ...m, op: 'tweak', t });
      }
      for (let pick = 0; pick < objects(base).length; pick++)
        for (const key of KEYS) change(base, { op: 'add', pick, key, v: 1, t: same });
      for (const type of EVENT_TYPES) change(base, { op: 'retype', type });
    }
    expect(changes).toBeGreaterThan(20_000);
  });

  it('agrees with the classes on random mutations of valid events', () => {
    const bases = [...builders, ...validFixtures, ...generated.slice(0, 500)];
    accepted = 0;
    rejected = 0;
    fc.assert(
      fc.property(
        fc.nat({ max: bases.length - 1 }),
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        (index, mutations) => {
          const raw = structuredClone(bases[index]);
          for (const m of mutations) mutate(raw, m);
          compare(json(raw));
        },
      ),
      { seed: 20261126, numRuns: 12_000 },
    );
    // both outcomes are common, so both directions are really tested
    expect(accepted).toBeGreaterThan(600);
    expect(rejected).toBeGreaterThan(6000);
  });
});

describe('payload checks', () => {
  /** The properties of a class with class-validator metadata, and whether @IsOptional. */
  function classFields(cls: new () => object): Record<string, boolean> {
    const metas = getMetadataStorage().getTargetValidationMetadatas(cls, '', false, false);
    const out: Record<string, boolean> = {};
    for (const m of metas) out[m.propertyName] ||= m.type === 'conditionalValidation';
    return out;
  }
  function expectSameFields(cls: new () => object, s: Shape, where: string): void {
    const fields = Object.fromEntries([...s.fields].map(([k, f]) => [k, f.optional]));
    expect({ where, fields }).toEqual({ where, fields: classFields(cls) });
    for (const [key, field] of s.fields) {
      if (!field.nested) continue;
      const nested = Reflect.getMetadata('design:type', cls.prototype, key) as new () => object;
      expectSameFields(nested, field.nested, `${where}.${key}`);
    }
  }

  it('have the properties of the classes, optional where they are', () => {
    expectSameFields(EventEnvelopeDto, ENVELOPE_CHECKS, 'envelope');
    for (const type of EVENT_TYPES)
      expectSameFields(PAYLOAD_CLASSES[type], PAYLOAD_CHECKS[type], type);
  });
});
