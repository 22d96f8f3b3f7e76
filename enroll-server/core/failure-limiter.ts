/**
 * Counts failed attempts per key (a key id, a client address) in fixed windows and says how long a
 * caller must wait once a key has used up its allowance. Memory is bounded: expired entries are
 * swept as the map grows, and past `maxEntries` the oldest are dropped.
 */
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
