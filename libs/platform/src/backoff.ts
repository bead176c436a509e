/** Exponential backoff with ±20 % jitter: base, 2·base, 4·base … capped. `attempt` ≥ 1. */
export function backoffMs(
  attempt: number,
  baseMs: number,
  capMs: number,
  random = Math.random,
): number {
  const exp = Math.min(capMs, baseMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
  return Math.round(Math.min(capMs, exp * (0.8 + 0.4 * random())));
}

/** A sleep that `wake()` cuts short (shutdown must not wait out a 30 s backoff). */
export class Sleeper {
  private wakers = new Set<() => void>();

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakers.add(done);
    });
  }

  wake(): void {
    for (const w of [...this.wakers]) w();
  }
}
