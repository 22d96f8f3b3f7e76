/** What the dashboard offers and how it labels periods: only what can work, in words that are true now. */
import { describe, expect, it } from 'vitest';
import { isCurrent, periodLabel } from '../../enroll-server/web/periods.js';
import { shellUnavailableReason } from '../../enroll-server/web/status.js';

const HOUR = 3_600_000;
const NOW = Date.parse('2026-11-20T12:00:00Z');
const period = (startH: number, endH: number, status: 'open' | 'computed' | 'locked') => ({
  start: new Date(NOW + startH * HOUR).toISOString(),
  end: new Date(NOW + endH * HOUR).toISOString(),
  status,
});

describe('earnings period labels', () => {
  it('calls only the period running now "so far"; a past week is ended or final, never in progress', () => {
    const lastWeek = period(-24 * 8, -24, 'computed');
    expect(isCurrent(lastWeek, NOW)).toBe(false);
    expect(periodLabel(lastWeek, NOW)).toBe('Ended, being checked (estimate)');
    expect(periodLabel(period(-24 * 8, -24, 'open'), NOW)).toBe('Ended, being checked (estimate)');
    expect(periodLabel(period(-24 * 8, -24, 'locked'), NOW)).toBe('Final');

    const thisWeek = period(-24, 24 * 6, 'open');
    expect(isCurrent(thisWeek, NOW)).toBe(true);
    expect(periodLabel(thisWeek, NOW)).toBe('In progress (estimate)');
    // A period locked early is final, and not "so far".
    expect(isCurrent(period(-24, 24, 'locked'), NOW)).toBe(false);
    expect(periodLabel(period(1, 24, 'open'), NOW)).toBe('Not started');
    // The end is exclusive: at the end instant the period has ended.
    expect(periodLabel(period(-24, 0, 'open'), NOW)).toBe('Ended, being checked (estimate)');
  });
});

describe('"Open terminal" is offered only when it can work', () => {
  it('refuses pending, rejected and revoked machines, offline ones and agents with shells off, saying why', () => {
    const on = { online: true, shellEnabled: true };
    expect(shellUnavailableReason({ status: 'approved', ...on })).toBeNull();
    expect(shellUnavailableReason({ status: 'active', ...on })).toBeNull();
    expect(shellUnavailableReason({ status: 'pending', ...on })).toMatch(/once the machine is approved/);
    expect(shellUnavailableReason({ status: 'revoked', ...on })).toMatch(/revoked/);
    expect(shellUnavailableReason({ status: 'rejected', ...on })).toMatch(/rejected/);
    expect(shellUnavailableReason({ status: 'approved', online: false, shellEnabled: true })).toMatch(
      /offline.*connected again/,
    );
    expect(shellUnavailableReason({ status: 'active', online: true, shellEnabled: false })).toMatch(
      /turned off.*remoteShell.*turn them on/,
    );
  });
});
