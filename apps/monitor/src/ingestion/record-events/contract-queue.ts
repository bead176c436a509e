/**
 * Orders this instance's concurrent writes to the same contracts: a task waits for the tasks
 * registered before it that share a contract with it, and for nothing else. Concurrent HTTP
 * requests of one platform carry overlapping contracts (a feed interleaves them); decided at
 * the same time on the same remembered states, all but one lost the race on the unique key
 * `(stream_id, stream_version)` and were decided again after a pause (bench, 4 requests of
 * 500 in flight: 330 lost rounds for 400 requests, the service idle 18 % of the time).
 *
 * A task registers on all its contracts at once, synchronously, before it waits, so that it
 * waits only for tasks registered earlier: the waits form no cycle, whatever the overlap.
 * It orders writes within one instance only; other instances (and other writers) are still
 * caught by the unique keys, as before. Disjoint tasks (Kafka partitions, a batch's lanes)
 * never wait. A hand-written chain of promises rather than a keyed-lock library: those take
 * one key after another (hundreds per batch), this registers them in one pass.
 */
export class ContractQueue {
  /** contract → the completion of the last task registered on it */
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(contracts: Iterable<string>, task: () => Promise<T>): Promise<T> {
    let release!: () => void;
    const done = new Promise<void>((resolve) => (release = resolve));
    const before = new Set<Promise<void>>();
    const mine: string[] = [];
    for (const c of contracts) {
      const tail = this.tails.get(c);
      if (tail === done) continue; // the same contract twice
      if (tail) before.add(tail);
      this.tails.set(c, done);
      mine.push(c);
    }
    try {
      if (before.size > 0) await Promise.all(before);
      return await task();
    } finally {
      release();
      for (const c of mine) if (this.tails.get(c) === done) this.tails.delete(c);
    }
  }

  /** Contracts with a task registered (running or waiting); 0 when idle. */
  get size(): number {
    return this.tails.size;
  }
}
