/**
 * Counts failed attempts per key (a key id, a client address) in fixed windows and says how long a
 * caller must wait once a key has used up its allowance. Memory is bounded: expired entries are
 * swept as the map grows, and past `maxEntries` the oldest are dropped.
 *
 * An attempt whose check is asynchronous (a password hash, a database read) is *reserved* before
 * the check starts and refunded when it turns out not to be a failure: otherwise any number of
 * parallel attempts would all pass the limit before the first one was counted.
 */

/** An attempt counted in advance; `refund` gives it back (once) when it was no failure. */
export interface Reservation {
  refund(): void;
}
export interface FailureLimiterOptions {
  windowMs: number;
  limit: number;
  now: () => number;
  maxEntries?: number;
}

interface Entry {
  count: number;
  resetAt: number;
}

export class FailureLimiter {
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;

  constructor(private readonly options: FailureLimiterOptions) {
    this.maxEntries = options.maxEntries ?? 100_000;
  }

  /** Seconds to wait before trying again, or 0 when the key may try now. */
  retryAfterSeconds(key: string): number {
    const entry = this.live(key);
    if (!entry || entry.count < this.options.limit) return 0;
    return Math.max(1, Math.ceil((entry.resetAt - this.options.now()) / 1000));
  }

  /**
   * Count an attempt now, before it is checked: `{ retryAfterSeconds }` when the key has no
   * allowance left (nothing is counted), else a reservation to refund if the attempt succeeds.
   */
  reserve(key: string): Reservation | { retryAfterSeconds: number } {
    const wait = this.retryAfterSeconds(key);
    if (wait > 0) return { retryAfterSeconds: wait };
    this.recordFailure(key);
    const counted = this.entries.get(key);
    let refunded = false;
    return {
      refund: () => {
        if (refunded) return;
        refunded = true;
        // Only the window it was counted in: a new window starts from nothing anyway.
        if (counted && this.entries.get(key) === counted && counted.count > 0) counted.count -= 1;
      },
    };
  }

  recordFailure(key: string): void {
    const entry = this.live(key);
    if (entry) {
      entry.count += 1;
      return;
    }
    if (this.entries.size >= this.maxEntries) this.sweep();
    this.entries.set(key, { count: 1, resetAt: this.options.now() + this.options.windowMs });
  }

  get size(): number {
    return this.entries.size;
  }

  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.resetAt <= this.options.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  private sweep(): void {
    const now = this.options.now();
    for (const [key, entry] of this.entries) if (entry.resetAt <= now) this.entries.delete(key);
    // Maps iterate in insertion order, so the first entries are the oldest.
    for (const key of this.entries.keys()) {
      if (this.entries.size < this.maxEntries) break;
      this.entries.delete(key);
    }
  }
}
