/**
 * A token bucket on an injected clock: up to `burst` at once, refilled at `perSecond`. Pure: it
 * holds two numbers and reads the time it is given, so tests need no timers.
 */
export interface BucketRate {
  burst: number;
  perSecond: number;
}

export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    private readonly rate: BucketRate,
    now: number,
  ) {
    this.tokens = rate.burst;
    this.at = now;
  }

  /** Take one token; false (and nothing taken) when the bucket is empty. */
  take(now: number): boolean {
    this.refill(now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Whole seconds until one token is back (at least 1). */
  retryAfterSeconds(now: number): number {
    this.refill(now);
    if (this.tokens >= 1) return 0;
    return Math.max(1, Math.ceil((1 - this.tokens) / this.rate.perSecond));
  }

  /** True when the bucket is as full as a new one (it can be forgotten). */
  full(now: number): boolean {
    this.refill(now);
    return this.tokens >= this.rate.burst;
  }

  private refill(now: number): void {
    if (now > this.at) {
      this.tokens = Math.min(this.rate.burst, this.tokens + ((now - this.at) / 1000) * this.rate.perSecond);
    }
    this.at = Math.max(this.at, now);
  }
}
