import { WindowThrottlerStorage } from './window-throttler-storage';

const MINUTE = 60_000;

describe('WindowThrottlerStorage', () => {
  let now: number;
  let storage: WindowThrottlerStorage;
  beforeEach(() => {
    now = Date.UTC(2026, 11, 4, 10, 0, 0, 500);
    storage = new WindowThrottlerStorage(() => now);
  });
  afterEach(() => storage.stop());

  const hit = (key = 'p1', limit = 3, block = MINUTE) => storage.hit(key, MINUTE, limit, block);

  it('passes the limit, refuses the next hit and blocks the budget for the block duration', () => {
    expect([hit(), hit(), hit()].map((r) => [r.totalHits, r.isBlocked])).toEqual([
      [1, false],
      [2, false],
      [3, false],
    ]);
    const over = hit();
    expect(over).toMatchObject({ totalHits: 4, isBlocked: true, timeToBlockExpire: 60 });
    now += 30_000;
    expect(hit()).toMatchObject({ isBlocked: true, timeToBlockExpire: 30 });
    now += 30_000; // the block is over: counted from zero again
    expect(hit()).toMatchObject({ totalHits: 1, isBlocked: false });
  });

  it('keeps the budgets of different keys apart', () => {
    for (let i = 0; i < 3; i++) hit('alice');
    expect(hit('alice').isBlocked).toBe(true);
    expect(hit('bob')).toMatchObject({ totalHits: 1, isBlocked: false });
  });

  it('forgets a hit a ttl (and at most one slot more) after it was made, never sooner', () => {
    hit(); // at :00.5, in the slot [:00, :01)
    now += 20_000;
    hit();
    hit();
    now = Date.UTC(2026, 11, 4, 10, 1, 0, 500); // exactly a ttl after the first hit
    expect(hit(undefined, 3, 0)).toMatchObject({ isBlocked: true, totalHits: 4 });
    now = Date.UTC(2026, 11, 4, 10, 1, 1, 0); // a ttl and the rest of its slot
    expect(hit(undefined, 3, 0)).toMatchObject({ isBlocked: false, totalHits: 3 });
  });

  it('never passes more than the limit in any ttl-long window (property over random traffic)', () => {
    const limit = 50;
    const passed: number[] = [];
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 20_000; i++) {
      now += Math.floor(rand() * 40);
      if (!hit('p', limit, 0).isBlocked) passed.push(now);
    }
    let start = 0;
    for (let end = 0; end < passed.length; end++) {
      while (passed[end] - passed[start] >= MINUTE) start++;
      expect(end - start + 1).toBeLessThanOrEqual(limit);
    }
    // and it does pass traffic: about limit per minute over the ~6.7 minutes
    expect(passed.length).toBeGreaterThan(limit * 5);
  });

  it('says when the oldest counted hit is forgotten (X-RateLimit-Reset)', () => {
    hit();
    now += 10_000;
    expect(hit().timeToExpire).toBe(51); // the first hit's slot ends at :01, + 60 s, from :10.5
  });

  it('forgets a budget left idle for a ttl after it passed (sweep)', () => {
    jest.useFakeTimers({ now });
    try {
      const s = new WindowThrottlerStorage(() => now);
      s.hit('idle', MINUTE, 3, MINUTE);
      const budgets = (s as unknown as { budgets: Map<string, unknown> }).budgets;
      expect(budgets.size).toBe(1);
      now += 2 * MINUTE;
      jest.advanceTimersByTime(2 * MINUTE);
      expect(budgets.size).toBe(0);
      s.stop();
    } finally {
      jest.useRealTimers();
    }
  });
});
