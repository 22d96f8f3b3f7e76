/**
 * Reconnect timing for the control channel (DESIGN.md "Control channel"): capped exponential
 * backoff with FULL jitter, a uniform wait in [0, min(cap, base·2^(n-1))], so that a server
 * restart does not bring every node back at the same instant. A healthy connection resets it.
 */

export interface ReconnectOptions {
  minMs: number;
  maxMs: number;
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

  next(): number {
    this.failures += 1;
    return fullJitterDelay(this.failures, this.random, this.options);
  }

  reset(): void {
    this.failures = 0;
  }
}
