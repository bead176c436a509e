import { shareAnswer } from '@app/platform';
import { UnitRankingCache } from './unit-ranking-cache';

describe('UnitRankingCache', () => {
  it('computes once per key; concurrent and later requests share the result', async () => {
    const cache = new UnitRankingCache<number>({ max: 2 });
    let computed = 0;
    const compute = () => Promise.resolve(++computed);
    const [a, b] = await Promise.all([cache.get('k', compute), cache.get('k', compute)]);
    expect([a, b, await cache.get('k', compute)]).toEqual([1, 1, 1]);
    expect(computed).toBe(1);
  });

  it('keeps the most recently used entries and drops the least recently used', async () => {
    const cache = new UnitRankingCache<string>({ max: 2 });
    const computed: string[] = [];
    const get = (k: string) =>
      cache.get(k, () => {
        computed.push(k);
        return Promise.resolve(k);
      });
    await get('a');
    await get('b');
    await get('a'); // a is now the most recent
    await get('c'); // drops b
    await get('a');
    await get('b');
    expect(computed).toEqual(['a', 'b', 'c', 'b']);
  });

  it('forgets a computation that failed', async () => {
    const cache = new UnitRankingCache<number>({ max: 2 });
    await expect(cache.get('k', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    await new Promise((r) => setImmediate(r));
    expect(await cache.get('k', () => Promise.resolve(7))).toBe(7);
  });

  it('keeps no more than maxChars of JSON text, least recently used out first, the newest always', async () => {
    // each answer's JSON text is 12 characters: {"v":"xxxx"}
    const cache = new UnitRankingCache<{ v: string }>({ max: 100, maxChars: 30 });
    const computed: string[] = [];
    const get = (k: string) =>
      cache.get(k, () => {
        computed.push(k);
        return Promise.resolve({ v: k.repeat(4) });
      });
    await get('a');
    await get('b'); // 24 characters: both kept
    await get('a'); // a is now the most recent
    await get('c'); // 36 > 30: drops b, the least recently used
    await get('a');
    await get('c');
    await get('b');
    expect(computed).toEqual(['a', 'b', 'c', 'b']);
    // one answer larger than the budget is still kept (until the next one)
    const big = new UnitRankingCache<{ v: string }>({ max: 100, maxChars: 5 });
    let n = 0;
    const compute = () => Promise.resolve({ v: String(++n) });
    await big.get('x', compute);
    await big.get('x', compute);
    expect(n).toBe(1);
  });

  it('gives every answer its JSON text once, and the same object to every request', async () => {
    const cache = new UnitRankingCache<{ items: number[] }>({ max: 4 });
    const answer = { items: [1, 2, 3] };
    const first = await cache.get('k', () => Promise.resolve(answer));
    expect(first).toBe(answer);
    expect(await cache.get('k', () => Promise.resolve({ items: [] }))).toBe(answer);
    expect(shareAnswer(answer)).toBe(JSON.stringify(answer).length);
  });

  it('neither serialises nor counts what it keeps with share = false', async () => {
    const cache = new UnitRankingCache<{ v: string }>({ max: 4, maxChars: 1, share: false });
    let n = 0;
    const compute = () => Promise.resolve({ v: 'a much longer value than one character ' + ++n });
    await cache.get('a', compute);
    await cache.get('b', compute);
    await cache.get('a', compute);
    expect(n).toBe(2); // both kept: nothing counted against maxChars
  });
});
