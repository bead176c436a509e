import { JsonNumber, OcdsFormatError, OcdsReader, type ReadItem } from './json-reader';

/** Reads `text` pushed in pieces of `piece` characters. */
function read(text: string, piece = 7, reader = new OcdsReader()): ReadItem[] {
  const items: ReadItem[] = [];
  for (let i = 0; i < text.length; i += piece) items.push(...reader.push(text.slice(i, i + piece)));
  items.push(...reader.end());
  return items;
}

function failure(text: string, reader?: OcdsReader): { code: string; message: string } {
  try {
    read(text, 5, reader);
  } catch (err) {
    if (err instanceof OcdsFormatError) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('no failure');
}

const rel = (id: string, extra: Record<string, unknown> = {}) => ({
  ocid: 'ocds-abc123-1',
  id,
  date: '2021-09-13T10:00:00+08:00',
  tag: ['award'],
  ...extra,
});

describe('OcdsReader', () => {
  it('reads the releases of a release package, whatever the piece size, in order', () => {
    const pkg = JSON.stringify({
      uri: 'https://example.org/p.json',
      version: '1.1',
      publisher: { name: 'x' },
      releases: [rel('r1', { awards: [{ id: 'A1', value: { amount: 1250000.5 } }] }), rel('r2')],
    });
    for (const piece of [1, 3, 64, pkg.length]) {
      const items = read(pkg, piece);
      expect(items.map((i) => [i.kind, i.at])).toEqual([
        ['release', 'releases[0]'],
        ['release', 'releases[1]'],
      ]);
      const r0 = items[0].kind === 'release' ? items[0].release : null;
      // numbers keep their text: amounts are converted from it exactly
      const awards = r0!.awards as Array<{ value: { amount: JsonNumber } }>;
      expect(awards[0].value.amount).toEqual(new JsonNumber('1250000.5'));
      expect(r0!.id).toBe('r1');
    }
  });

  it('reads embedded releases of a record package; a record with linked ones only, its compiledRelease', () => {
    const pkg = JSON.stringify({
      version: '1.1',
      records: [
        { ocid: 'ocds-abc123-1', releases: [rel('r1'), rel('r2')], compiledRelease: rel('c1') },
        {
          ocid: 'ocds-abc123-2',
          releases: [
            { url: 'https://example.org/r3.json', date: '2021-01-01T00:00:00Z', tag: ['award'] },
          ],
          compiledRelease: rel('c2'),
          versionedRelease: { ocid: 'x', parties: [{ id: 'p', name: [{ value: 'n' }] }] },
        },
        {
          ocid: 'ocds-abc123-3',
          releases: [{ url: 'https://example.org/r4.json', date: '2021-01-01T00:00:00Z' }],
        },
      ],
    });
    const items = read(pkg, 11);
    expect(items.map((i) => [i.kind, i.at, i.kind === 'release' ? i.release.id : i.code])).toEqual([
      ['release', 'records[0].releases[0]', 'r1'],
      ['release', 'records[0].releases[1]', 'r2'],
      ['release', 'records[1].compiledRelease', 'c2'],
      ['refused', 'records[2]', 'OCDS.INVALID_RELEASE'],
    ]);
  });

  it('reads JSON Lines of releases, and of packages', () => {
    const lines = [rel('r1'), rel('r2'), { version: '1.1', releases: [rel('r3')] }]
      .map((r) => JSON.stringify(r))
      .join('\n');
    expect(read(`${lines}\n`).map((i) => [i.at, i.kind === 'release' && i.release.id])).toEqual([
      ['(release)', 'r1'],
      ['[1]', 'r2'],
      ['[2].releases[0]', 'r3'],
    ]);
  });

  it('refuses input that is not JSON, not OCDS, or of an unsupported version, with codes', () => {
    expect(failure('{"version":"1.1","releases":[{"ocid":')).toEqual({
      code: 'OCDS.INVALID_JSON',
      message: 'not valid JSON: Parser has expected a value',
    });
    expect(failure('{"releases":[{"ocid":"x",}]}').code).toBe('OCDS.INVALID_JSON');
    expect(failure('not json').code).toBe('OCDS.INVALID_JSON');
    expect(failure('[1,2,3]')).toEqual({
      code: 'OCDS.NOT_OCDS',
      message:
        'value 1 of the input is not a JSON object: expected a release package, a record package or a release',
    });
    expect(failure('').code).toBe('OCDS.NOT_OCDS');
    expect(failure('"a string"').code).toBe('OCDS.NOT_OCDS');
    expect(failure('{"version":"1.0","releases":[]}')).toEqual({
      code: 'OCDS.UNSUPPORTED_VERSION',
      message: 'package version "1.0" is not supported (1.1, 1.2)',
    });
    expect(failure('{"version":2,"releases":[]}').code).toBe('OCDS.UNSUPPORTED_VERSION');
  });

  it('an element of releases[] that is not an object is refused alone; the others are read', () => {
    const items = read(JSON.stringify({ version: '1.2', releases: [1, rel('r2'), 'x'] }));
    expect(items.map((i) => [i.at, i.kind, i.kind === 'refused' ? i.code : i.release.id])).toEqual([
      ['releases[0]', 'refused', 'OCDS.INVALID_RELEASE'],
      ['releases[1]', 'release', 'r2'],
      ['releases[2]', 'refused', 'OCDS.INVALID_RELEASE'],
    ]);
  });

  it('a release over the size limit is refused, in bounded memory, and the next one is read', () => {
    const reader = new OcdsReader({ maxReleaseChars: 1000, maxDepth: 32 });
    const big = rel('big', { description: 'x'.repeat(100_000) });
    const items = read(JSON.stringify({ releases: [big, rel('r2')] }), 4096, reader);
    expect(items.map((i) => [i.at, i.kind === 'refused' ? i.code : i.release.id])).toEqual([
      ['releases[0]', 'OCDS.RELEASE_TOO_LARGE'],
      ['releases[1]', 'r2'],
    ]);
    // many small values add up too
    const wide = rel('wide', { items: Array.from({ length: 500 }, (_, i) => ({ id: String(i) })) });
    const r2 = new OcdsReader({ maxReleaseChars: 1000, maxDepth: 32 });
    expect(read(JSON.stringify(wide), 100, r2).map((i) => i.kind === 'refused' && i.code)).toEqual([
      'OCDS.RELEASE_TOO_LARGE',
    ]);
  });

  it('nesting deeper than the limit is refused', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 40; i++) deep = { a: deep };
    const items = read(JSON.stringify({ releases: [rel('d', { deep })] }));
    expect(items.map((i) => i.kind === 'refused' && i.message)).toEqual([
      'the release is nested too deeply',
    ]);
  });

  it('a key named __proto__ is data, never the prototype', () => {
    const items = read('{"releases":[{"ocid":"o","__proto__":{"polluted":true},"id":"1"}]}');
    const r = items[0].kind === 'release' ? items[0].release : null;
    expect(Object.getPrototypeOf(r)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(r!)).toEqual(['ocid', '__proto__', 'id']);
  });
});
