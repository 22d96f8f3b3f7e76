/** How a payout period reads to an owner, from its status and the clock. Pure. */
import type { EarningsPeriod } from './payout-types.js';

type PeriodTimes = Pick<EarningsPeriod, 'start' | 'end' | 'status'>;

/** The period running now (and not locked): the only one whose amount is "so far". */
export function isCurrent(p: PeriodTimes, now: number): boolean {
  return p.status !== 'locked' && Date.parse(p.start) <= now && now < Date.parse(p.end);
}

/**
 * How a period reads to its owner. Only the period running now is "so far"; one that has ended but
 * is not locked yet is still an estimate, being checked; a locked one is final.
 */
export function periodLabel(p: PeriodTimes, now: number): string {
  if (p.status === 'locked') return 'Final';
  if (now < Date.parse(p.start)) return 'Not started';
  if (now < Date.parse(p.end)) return 'In progress (estimate)';
  return 'Ended, being checked (estimate)';
}
