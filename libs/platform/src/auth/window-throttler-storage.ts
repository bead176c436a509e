import type { ThrottlerStorage } from '@nestjs/throttler';

/** What ThrottlerStorage.increment resolves to (the library does not export its name). */
type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/** A window's hits are counted per slot, 1/SLOTS of the ttl wide (1 s for a minute). */
const SLOTS = 60;
/**
 * Slots kept: the current one and the SLOTS before it, so a hit in slot x is forgotten when
 * slot x + SLOTS + 1 begins, at least a ttl and at most a ttl and a slot after it.
 */
const RING = SLOTS + 1;

interface Budget {
  /** a slot's width, ms: the budget's ttl / SLOTS */
  readonly width: number;
  /** hits per slot, a ring indexed by slot number modulo RING */
  readonly counts: Int32Array;
  /** the sum of `counts` */
  total: number;
  /** the newest slot number (time / slot width) whose count is in the ring */
  slot: number;
  /** epoch ms until which the budget is blocked; 0 when not blocked */
  blockedUntil: number;
}

/**
 * The rate limiter's counters (a ThrottlerStorage for @nestjs/throttler's guard), each hit
 * counted in the slot of its time, 1/60 of the ttl wide. A hit is forgotten at least a ttl and
 * at most a ttl and one slot after it was made, so no ttl-long window ever passes more than
 * the limit. When a hit takes the count over the limit the budget is blocked for
 * `blockDuration` (the guard passes the ttl unless a route says otherwise), its hits not
 * counted meanwhile; once the block is over, the count starts again from zero, as the
 * library's own storage does.
 *
 * Why not the library's own storage: it keeps one timestamp per hit and filters the whole list
 * at every request, so a request costs time proportional to the budget's hits in the last
 * minute: 0.7 ms at 30,000 (a limit set high, 500 requests a second) and 1.6 ms at 60,000,
 * more than the rest of a cached answer. Here a request costs one slot update, whatever the
 * limit.
 */
export class WindowThrottlerStorage implements ThrottlerStorage {
  private readonly budgets = new Map<string, Budget>();
  private sweep?: NodeJS.Timeout;

  constructor(private readonly now: () => number = Date.now) {}

  increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    return Promise.resolve(this.hit(`${throttlerName}\u0000${key}`, ttl, limit, blockDuration));
  }

  /** increment, synchronously (the guard awaits it). */
  hit(key: string, ttl: number, limit: number, blockDuration: number): ThrottlerStorageRecord {
    const now = this.now();
    const width = Math.max(1, ttl / SLOTS);
    const slot = Math.floor(now / width);
    this.startSweep(ttl);
    let b = this.budgets.get(key);
    if (!b || b.width !== width) {
      b = { width, counts: new Int32Array(RING), total: 0, slot, blockedUntil: 0 };
      this.budgets.set(key, b);
    }
    if (b.blockedUntil !== 0) {
      if (now < b.blockedUntil)
        return {
          totalHits: b.total + 1,
          timeToExpire: Math.ceil(ttl / 1000),
          isBlocked: true,
          timeToBlockExpire: Math.ceil((b.blockedUntil - now) / 1000),
        };
      b.counts.fill(0);
      b.total = 0;
      b.blockedUntil = 0;
    }
    advance(b, slot);
    // no block duration: a hit over the limit is refused and not counted, until hits leave
    // the window (the library's own storage does the same)
    if (blockDuration <= 0 && b.total >= limit) {
      const expire = Math.ceil((oldestForgotten(b, width) - now) / 1000);
      return {
        totalHits: b.total + 1,
        timeToExpire: expire,
        isBlocked: true,
        timeToBlockExpire: expire,
      };
    }
    b.counts[slot % RING]++;
    b.total++;
    const blocked = b.total > limit;
    if (blocked) b.blockedUntil = now + blockDuration;
    return {
      totalHits: b.total,
      // when the oldest counted hit leaves the window
      timeToExpire: Math.ceil((oldestForgotten(b, width) - now) / 1000),
      isBlocked: blocked,
      timeToBlockExpire: blocked ? Math.ceil(blockDuration / 1000) : 0,
    };
  }

  /** Forgets the budgets with no hit in their window and no block (every first ttl, unref'd). */
  private startSweep(ttl: number): void {
    if (this.sweep) return;
    this.sweep = setInterval(() => {
      const now = this.now();
      for (const [key, b] of this.budgets) {
        if (b.blockedUntil > now) continue;
        advance(b, Math.floor(now / b.width));
        if (b.total === 0) this.budgets.delete(key);
      }
    }, ttl);
    this.sweep.unref();
  }

  /** Stops the sweep and forgets every budget (the sweep's timer never holds the process open). */
  stop(): void {
    clearInterval(this.sweep);
    this.sweep = undefined;
    this.budgets.clear();
  }
}

/** Moves the ring to `slot`: the counts of the slots that left the window are dropped. */
function advance(b: Budget, slot: number): void {
  if (slot <= b.slot) return;
  if (slot - b.slot >= RING) {
    b.counts.fill(0);
    b.total = 0;
  } else {
    for (let s = b.slot + 1; s <= slot; s++) {
      b.total -= b.counts[s % RING];
      b.counts[s % RING] = 0;
    }
  }
  b.slot = slot;
}

/** When (epoch ms) the oldest hit in the window is forgotten (see RING). */
function oldestForgotten(b: Budget, width: number): number {
  for (let s = b.slot - SLOTS; s <= b.slot; s++)
    if (s >= 0 && b.counts[s % RING] > 0) return (s + RING) * width;
  return (b.slot + RING) * width;
}
