/**
 * Failed attempts counted per key in fixed windows, in the database, so that every replica counts
 * the same guesses (sign-in, enrollment keys, reset links): with three replicas behind a load
 * balancer an attacker gets the allowance once, not three times. Each method is one atomic
 * statement; nothing is read and then written.
 */
export interface AttemptRepository {
  /**
   * Count one attempt for `key` unless its live window already holds `limit`: `counted` with the
   * window's end, or not counted with the end of the full window (when the key may try again).
   * An expired window starts again from this attempt.
   */
  take(
    key: string,
    limit: number,
    windowMs: number,
    now: number,
  ): Promise<{ counted: boolean; resetAt: number }>;
  /** Give one counted attempt back, if its window (ending at `resetAt`) is still the live one. */
  giveBack(key: string, resetAt: number): Promise<void>;
  /** When a key whose live window holds `limit` or more may try again; null when it may now. */
  blockedUntil(key: string, limit: number, now: number): Promise<number | null>;
  /** Forget windows that ended at or before `now`; how many were forgotten. */
  prune(now: number): Promise<number>;
}
