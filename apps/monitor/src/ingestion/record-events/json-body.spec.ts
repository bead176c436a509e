import fc from 'fast-check';
import { OversizedValue } from '@app/contracts';
import { MAX_PARSED_ELEMENT_BYTES, parseJsonBody } from './json-body';

const parse = (text: string) => parseJsonBody(Buffer.from(text, 'utf8'));

/** JSON.parse's verdict on the same text: the value, or that it failed. */
function reference(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

const verdict = (r: Awaited<ReturnType<typeof parse>>) =>
  r.ok ? { ok: true, value: r.value } : { ok: false };

describe('parseJsonBody: JSON.parse, element by element', () => {
  it('gives JSON.parse’s value for any JSON value and any array of them', async () => {
    await fc.assert(
      fc.asyncProperty(fc.json(), async (text) => {
        expect(verdict(await parse(text))).toEqual(reference(text));
        const array = `[ ${text} ,\n${text}]`;
        expect(verdict(await parse(array))).toEqual(reference(array));
      }),
      { numRuns: 300, seed: 20261201 },
    );
  });

  it('refuses exactly what JSON.parse refuses, for cuts and edits of valid arrays', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.json(), { maxLength: 5 }),
        fc.nat(),
        fc.constantFrom('', ',', ']', '[', '}', '"', '\\', ' x', ',]'),
        async (parts, cut, insert) => {
          const whole = `[${parts.join(',')}]`;
          const at = cut % (whole.length + 1);
          const text = whole.slice(0, at) + insert + whole.slice(at);
          expect((await parse(text)).ok).toBe(reference(text).ok);
        },
      ),
      { numRuns: 500, seed: 7 },
    );
  });

  it.each([
    ['[]', []],
    [' [ ] ', []],
    ['\ufeff[1]', [1]],
    ['["a\\"]", {"b": ["]"]}]', ['a"]', { b: [']'] }]],
    ['["中文", "😀"]', ['中文', '😀']],
  ])('parses %j', async (text, value) => {
    expect(await parse(text)).toEqual({ ok: true, value });
  });

  it.each(['[1,]', '[,1]', '[1 2]', '[1]]', '[1] x', '[{"a":1]', '["a]', '[1}'])(
    'refuses %j',
    async (text) => {
      expect((await parse(text)).ok).toBe(false);
    },
  );

  it('does not parse an element larger than the bound: it stands as an OversizedValue', async () => {
    const big = JSON.stringify({ data: 'x'.repeat(MAX_PARSED_ELEMENT_BYTES) });
    const r = await parse(`[{"a":1},${big}]`);
    expect(r.ok).toBe(true);
    const value = (r as { value: unknown[] }).value;
    expect(value[0]).toEqual({ a: 1 });
    expect(value[1]).toBeInstanceOf(OversizedValue);
    expect((value[1] as OversizedValue).bytes).toBe(Buffer.byteLength(big));
  });
});
