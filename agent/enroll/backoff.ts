/** Capped exponential backoff with jitter, and `Retry-After` parsing (STYLE.md "Retry on purpose"). */

export interface BackoffOptions {
  baseMs: number;
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 1_000, capMs: 60_000 };
/** A `Retry-After` longer than this is not believed (a misconfigured proxy must not park a node). */
export const MAX_RETRY_AFTER_MS = 10 * 60_000;

/**
 * The wait before retry number `attempt` (1-based): "equal jitter", between half and all of
 * `min(cap, base·2^(attempt-1))`, so retries never bunch at zero yet spread across nodes.
 */
export function backoffDelay(attempt: number, random: () => number, options = DEFAULT_BACKOFF): number {
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** `Retry-After` as delay-seconds or an HTTP date, in milliseconds from `nowMs`; undefined if absent or unreadable. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Math.min(Number(text) * 1000, MAX_RETRY_AFTER_MS);
  const at = Date.parse(text);
  if (!Number.isFinite(at)) return undefined;
  return Math.min(Math.max(0, at - nowMs), MAX_RETRY_AFTER_MS);
}
