/**
 * Reconnect timing for the control channel (DESIGN.md "Control channel"): capped exponential
 * backoff with FULL jitter, a uniform wait in [0, min(cap, base·2^(n-1))], so that a server
 * restart does not bring every node back at the same instant. A healthy connection resets it.
 * While nothing listens at the address (connection refused: the server or a replica is gone, not
 * overloaded) the wait is capped lower, at `refusedMaxMs`: the next try may reach another replica.
 * A refusal with Retry-After (429, 503) is not retried sooner than it says, plus up to a quarter
 * more, so that the machines told the same wait do not all come back at once.
 */

import { RECONNECT_REFUSED_MAX_MS } from '../../protocol/control.js';

export interface ReconnectOptions {
  minMs: number;
  maxMs: number;
  /** The cap after a refused connection; RECONNECT_REFUSED_MAX_MS (or `maxMs`, if lower) by default. */
  refusedMaxMs?: number;
}

/** The wait before reconnect attempt `attempt` (1-based). */
export function fullJitterDelay(attempt: number, random: () => number, options: ReconnectOptions): number {
  const ceiling = Math.min(options.maxMs, options.minMs * 2 ** Math.min(30, Math.max(0, attempt - 1)));
  return Math.floor(random() * ceiling);
}

/** Counts failures since the last healthy connection and hands out the next wait. */
export class ReconnectBackoff {
  private failures = 0;

  constructor(
    private readonly options: ReconnectOptions,
    private readonly random: () => number,
  ) {}

  get attempt(): number {
    return this.failures;
  }

  /**
   * `nobodyListening`: the last attempt's connection was refused (ECONNREFUSED);
   * `retryAfterSeconds`: the server's Retry-After on a refusal.
   */
  next(nobodyListening = false, retryAfterSeconds = 0): number {
    this.failures += 1;
    const cap = nobodyListening
      ? Math.min(this.options.maxMs, this.options.refusedMaxMs ?? RECONNECT_REFUSED_MAX_MS)
      : this.options.maxMs;
    const delay = fullJitterDelay(this.failures, this.random, { ...this.options, maxMs: cap });
    if (retryAfterSeconds <= 0) return delay;
    const told = retryAfterSeconds * 1000;
    return Math.max(delay, Math.floor(told + this.random() * (told / 4)));
  }

  reset(): void {
    this.failures = 0;
  }
}
