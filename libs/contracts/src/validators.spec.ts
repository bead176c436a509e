import fc from 'fast-check';
import { parseOffsetDateTime } from './validators';

const two = (n: number) => String(n).padStart(2, '0');

/** Date-times of the shape the pattern admits, impossible ones (31 April, 24:00, 29 February) included. */
const dateTime = fc
  .record({
    y: fc.integer({ min: 0, max: 9999 }),
    mo: fc.integer({ min: 0, max: 13 }),
    d: fc.integer({ min: 0, max: 32 }),
    h: fc.integer({ min: 0, max: 24 }),
    mi: fc.integer({ min: 0, max: 60 }),
    s: fc.option(fc.integer({ min: 0, max: 60 })),
    frac: fc.option(fc.stringMatching(/^\d{1,9}$/)),
    offset: fc.oneof(
      fc.constant('Z'),
      fc
        .record({
          sign: fc.constantFrom('+', '-'),
          oh: fc.integer({ min: 0, max: 19 }),
          om: fc.integer({ min: 0, max: 60 }),
        })
        .map(({ sign, oh, om }) => `${sign}${two(oh)}:${two(om)}`),
    ),
  })
  .map(
    ({ y, mo, d, h, mi, s, frac, offset }) =>
      `${String(y).padStart(4, '0')}-${two(mo)}-${two(d)}T${two(h)}:${two(mi)}` +
      (s === null ? '' : `:${two(s)}${frac === null ? '' : `.${frac}`}`) +
      offset,
  );

/**
 * The function as it was before it computed the milliseconds itself: Date.parse once the fields
 * pass (with the proleptic calendar's 29 February of year 0000, which it refused).
 */
function reference(v: string): number | null {
  const m =
    /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-](\d{2}):(\d{2}))$/.exec(
      v,
    );
  if (!m) return null;
  const [, y, mo, d, h, mi, s = '0', , oh = '0', om = '0'] = m;
  if (+mo < 1 || +mo > 12 || +d < 1 || +h > 23 || +mi > 59 || +s > 59) return null;
  if (+oh > 18 || +om > 59) return null;
  const last = new Date(0);
  last.setUTCFullYear(+y, +mo, 0); // not Date.UTC, which reads years 0–99 as 1900–1999
  if (+d > last.getUTCDate()) return null;
  const ms = Date.parse(v);
  return Number.isFinite(ms) ? ms : null;
}

describe('parseOffsetDateTime', () => {
  it('gives what Date.parse gives, and refuses what the pattern and the calendar refuse', () => {
    fc.assert(
      fc.property(dateTime, (v) => {
        expect(parseOffsetDateTime(v)).toBe(reference(v));
      }),
      { numRuns: 20_000 },
    );
  });

  it('agrees with it on date-times with a character inserted, deleted or replaced', () => {
    const edit = fc.record({
      kind: fc.constantFrom('insert', 'delete', 'replace'),
      at: fc.nat(),
      ch: fc.constantFrom(...'0123456789-+:.TZ tz\u0660'.split('')),
    });
    fc.assert(
      fc.property(dateTime, fc.array(edit, { minLength: 1, maxLength: 3 }), (v, edits) => {
        let w = v;
        for (const { kind, at, ch } of edits) {
          const i = at % (w.length + 1);
          w =
            kind === 'insert'
              ? w.slice(0, i) + ch + w.slice(i)
              : kind === 'delete'
                ? w.slice(0, i) + w.slice(i + 1)
                : w.slice(0, i) + ch + w.slice(i + 1);
        }
        expect(parseOffsetDateTime(w)).toBe(reference(w));
      }),
      { numRuns: 20_000 },
    );
  });

  it.each([
    ['2021-09-30T15:20:00+08:00', Date.UTC(2021, 8, 30, 7, 20)],
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29)],
    ['2021-01-01T00:00:00.1239Z', Date.UTC(2021, 0, 1, 0, 0, 0, 123)],
    ['2021-01-01T08:00-08:00', Date.UTC(2021, 0, 1, 16)],
    ['0050-06-01T00:00:00Z', Date.parse('0050-06-01T00:00:00Z')],
  ])('%s', (v, ms) => {
    expect(parseOffsetDateTime(v)).toBe(ms);
  });

  it.each([
    '2023-02-29T00:00:00Z',
    '1900-02-29T00:00:00Z',
    '2021-04-31T00:00:00Z',
    '2021-01-01T24:00:00Z',
    '2021-01-01T00:00:60Z',
    '2021-01-01T00:00:00+19:00',
    '2021-01-01T00:00:00',
    '2021-01-01 00:00:00Z',
    '2021-01-01T00:00:00.1234567890Z',
  ])('refuses %s', (v) => {
    expect(parseOffsetDateTime(v)).toBeNull();
  });

  it('refuses what is not a string', () => {
    expect(parseOffsetDateTime(1_600_000_000_000)).toBeNull();
    expect(parseOffsetDateTime(null)).toBeNull();
  });
});
