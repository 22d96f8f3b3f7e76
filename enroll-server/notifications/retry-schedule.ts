/**
 * When to try a mail or a webhook delivery again: the policy's delays in order (the last one
 * repeats), each with jitter between half and all of it so that many waiting items do not all come
 * due in the same second; none after `maxAttempts`. Pure (randomness passed in).
 */
import type { RetryPolicy } from '../core/accounts-config.js';

/** Milliseconds to wait after the `attempts`-th failed attempt, or null to give up. */
export function retryDelay(
  policy: RetryPolicy,
  attempts: number,
  random: () => number = Math.random,
): number | null {
  if (attempts >= policy.maxAttempts || policy.delaysMs.length === 0) return null;
  const base = policy.delaysMs[Math.min(Math.max(attempts, 1), policy.delaysMs.length) - 1] ?? 0;
  return Math.round(base / 2 + (base / 2) * random());
}
