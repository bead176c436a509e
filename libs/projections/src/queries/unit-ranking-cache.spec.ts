import { UnitRankingCache } from './unit-ranking-cache';

describe('UnitRankingCache', () => {
  it('computes once per key; concurrent and later requests share the result', async () => {
    const cache = new UnitRankingCache<number>(2);
    let computed = 0;
    const compute = () => Promise.resolve(++computed);
    const [a, b] = await Promise.all([cache.get('k', compute), cache.get('k', compute)]);
    expect([a, b, await cache.get('k', compute)]).toEqual([1, 1, 1]);
    expect(computed).toBe(1);
  });

  it('keeps the most recently used entries and drops the least recently used', async () => {
    const cache = new UnitRankingCache<string>(2);
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
    const cache = new UnitRankingCache<number>(2);
    await expect(cache.get('k', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    await new Promise((r) => setImmediate(r));
    expect(await cache.get('k', () => Promise.resolve(7))).toBe(7);
  });
});
