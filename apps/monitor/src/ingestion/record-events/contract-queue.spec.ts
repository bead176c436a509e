import fc from 'fast-check';
import { ContractQueue } from './contract-queue';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('ContractQueue', () => {
  it('tasks on disjoint contracts run at the same time', async () => {
    const q = new ContractQueue();
    let running = 0;
    let most = 0;
    const task = async () => {
      most = Math.max(most, ++running);
      await tick();
      running--;
    };
    await Promise.all([q.run(['a', 'b'], task), q.run(['c'], task), q.run(['d', 'e'], task)]);
    expect(most).toBe(3);
    expect(q.size).toBe(0);
  });

  it('a task sharing a contract starts once the earlier one has finished, even if it threw', async () => {
    const q = new ContractQueue();
    const log: string[] = [];
    const first = q.run(['a', 'b'], async () => {
      log.push('first starts');
      await tick();
      log.push('first fails');
      throw new Error('boom');
    });
    const second = q.run(['b', 'c'], async () => {
      log.push('second starts');
      return 42;
    });
    await expect(first).rejects.toThrow('boom');
    await expect(second).resolves.toBe(42);
    expect(log).toEqual(['first starts', 'first fails', 'second starts']);
    expect(q.size).toBe(0);
  });

  it('a contract named twice by one task does not make it wait for itself', async () => {
    const q = new ContractQueue();
    await expect(q.run(['a', 'a', 'b', 'a'], () => Promise.resolve('done'))).resolves.toBe('done');
    expect(q.size).toBe(0);
  });

  it('any overlap: every task ends, and tasks sharing a contract never overlap and keep their order', async () => {
    const contract = fc.constantFrom('a', 'b', 'c', 'd', 'e');
    const spec = fc.record({
      contracts: fc.array(contract, { minLength: 0, maxLength: 4 }),
      ticks: fc.integer({ min: 0, max: 3 }),
      /** registered after this many ticks of the test (tasks arrive while others run) */
      after: fc.integer({ min: 0, max: 3 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(spec, { minLength: 1, maxLength: 12 }), async (specs) => {
        const q = new ContractQueue();
        const spans: Array<{ contracts: Set<string>; order: number; start: number; end: number }> =
          [];
        let clock = 0;
        let order = 0;
        const runs: Promise<void>[] = [];
        const byArrival = [...specs.keys()].sort((x, y) => specs[x].after - specs[y].after);
        let waited = 0;
        for (const i of byArrival) {
          while (waited < specs[i].after) {
            await tick();
            waited++;
          }
          const s = specs[i];
          const span = { contracts: new Set(s.contracts), order: order++, start: -1, end: -1 };
          spans.push(span);
          runs.push(
            q.run(s.contracts, async () => {
              span.start = ++clock;
              for (let k = 0; k < s.ticks; k++) await tick();
              span.end = ++clock;
            }),
          );
        }
        await Promise.all(runs);
        expect(q.size).toBe(0);
        for (const x of spans)
          for (const y of spans) {
            if (x.order >= y.order || ![...x.contracts].some((c) => y.contracts.has(c))) continue;
            expect(x.end).toBeLessThan(y.start); // the earlier one, over before the later starts
          }
      }),
      { numRuns: 200 },
    );
  });
});
