/**
 * Counts failed attempts per key (a key id, a client address) in fixed windows and says how long a
 * caller must wait once a key has used up its allowance. Memory is bounded: expired entries are
 * swept as the map grows, and past `maxEntries` the oldest are dropped.
 *
 * An attempt whose check is asynchronous (a password hash, a database read) is *reserved* before
 * the check starts and refunded when it turns out not to be a failure: otherwise any number of
 * parallel attempts would all pass the limit before the first one was counted.
 *
 * `FailureLimiter` counts in this process's memory: for what protects the process itself (control
 * connections per address). `SharedFailureLimiter` counts in the database, for the guesses a
 * stranger makes (sign-in, enrollment keys, reset links): every replica sees the same count.
 */
import type { AttemptRepository } from './attempt-repository.js';

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

/** Forget expired windows in the database at most this often (per process). */
const PRUNE_EVERY_MS = 10 * 60_000;

export interface SharedFailureLimiterOptions {
  /** Names the limit in the shared table: `scope:key`. */
  scope: string;
  windowMs: number;
  limit: number;
  now: () => number;
  /** A failed prune of expired windows (they are only pruned, never relied on). */
  onError: (error: unknown) => void;
}

/**
 * The same limit as `FailureLimiter`, counted in the database (`AttemptRepository`), so that every
 * replica counts the same guesses. Each reservation is one atomic statement: parallel attempts on
 * any replicas get at most `limit` reservations per window between them.
 */
export class SharedFailureLimiter {
  private pruneAt = 0;

  constructor(
    private readonly repo: AttemptRepository,
    private readonly options: SharedFailureLimiterOptions,
  ) {}

  async retryAfterSeconds(key: string): Promise<number> {
    const now = this.options.now();
    const until = await this.repo.blockedUntil(this.key(key), this.options.limit, now);
    return until === null ? 0 : waitSeconds(until, now);
  }

  /** As `FailureLimiter.reserve`; the refund is written to the database (awaited). */
  async reserve(key: string): Promise<SharedReservation | { retryAfterSeconds: number }> {
    const now = this.maybePrune();
    const shared = this.key(key);
    const taken = await this.repo.take(shared, this.options.limit, this.options.windowMs, now);
    if (!taken.counted) return { retryAfterSeconds: waitSeconds(taken.resetAt, now) };
    let refunded = false;
    return {
      refund: async () => {
        if (refunded) return;
        refunded = true;
        await this.repo.giveBack(shared, taken.resetAt);
      },
    };
  }

  /** Count a failure that was not reserved before (a full window stays full). */
  async recordFailure(key: string): Promise<void> {
    const now = this.maybePrune();
    await this.repo.take(this.key(key), Number.MAX_SAFE_INTEGER, this.options.windowMs, now);
  }

  private key(key: string): string {
    return `${this.options.scope}:${key}`;
  }

  private maybePrune(): number {
    const now = this.options.now();
    if (now >= this.pruneAt) {
      this.pruneAt = now + PRUNE_EVERY_MS;
      this.repo.prune(now).catch(this.options.onError);
    }
    return now;
  }
}

export interface SharedReservation {
  refund(): Promise<void>;
}

const waitSeconds = (until: number, now: number) => Math.max(1, Math.ceil((until - now) / 1000));
