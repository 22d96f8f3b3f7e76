/** Payout period helpers shared by the server, the CLI and the dashboard. Weeks run Monday 00:00 UTC to the next Monday. */

const DAY_MS = 86_400_000;

/** The UTC week (Monday 00:00 to the following Monday 00:00) containing `at` (ms). */
export function weekContaining(at: number): { start: number; end: number } {
  const midnight = at - (((at % DAY_MS) + DAY_MS) % DAY_MS);
  const weekday = (new Date(midnight).getUTCDay() + 6) % 7; // Monday = 0
  const start = midnight - weekday * DAY_MS;
  return { start, end: start + 7 * DAY_MS };
}
