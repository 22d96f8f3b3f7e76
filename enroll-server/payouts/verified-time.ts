/**
 * Verified availability (DESIGN.md "Continuous audits", "Payout effect"), pure: from a node's
 * audit state history, the spans in which it counted as verified, and from those the minutes of a
 * period that were not. An up minute is paid for availability only while the node was verified:
 * its audit state `passing` (until it goes stale, two intervals after the pass), or `failing` /
 * `never` for less than `audit.graceMinutes` since the failure or approval. The limits are stored
 * with each interval when it starts, so a past period computes the same way after any later
 * audit or policy change. docs/payouts.md states the rule in words.
 */
import type { Span } from '../core/uptime.js';
import { type MinuteRange, minutesTouched, subtract } from './minute-ranges.js';

/** One interval of the audit state history, as a statement reads it. */
export interface AuditStateSpan {
  startedAt: number;
  endedAt: number | null;
  /** The node is verified from `startedAt` until here (or the interval's end, if sooner). */
  verifiedUntil: number;
}

export interface AuditHistory {
  /** The intervals that reach into the period, oldest first, as known at the statement's `asOf`. */
  intervals: readonly AuditStateSpan[];
  /** When the node's first interval started (null: none yet, a node approved before audits). */
  firstStartedAt: number | null;
}

const MINUTE_MS = 60_000;

/**
 * The spans in which the node counted as verified, up to `asOf`. Before its first interval a node
 * was approved before audits existed: that time counts as verified, as it was paid then.
 */
export function verifiedSpans(history: AuditHistory, from: number, asOf: number): Span[] {
  const spans: Span[] = [];
  const first = history.firstStartedAt;
  if (first === null || first > asOf) return [{ start: from, end: asOf }];
  if (first > from) spans.push({ start: from, end: first });
  for (const i of history.intervals) {
    if (i.startedAt > asOf) continue;
    const ended = i.endedAt === null || i.endedAt > asOf ? asOf : i.endedAt;
    const end = Math.min(ended, i.verifiedUntil);
    if (end > i.startedAt) spans.push({ start: i.startedAt, end });
  }
  return spans;
}

/** Minutes of [start, end) in which the node was not verified at any moment. */
export function unverifiedRanges(verified: readonly Span[], start: number, end: number): MinuteRange[] {
  const m0 = Math.floor(start / MINUTE_MS);
  const m1 = Math.floor(end / MINUTE_MS);
  return subtract([[m0, m1]], minutesTouched(verified, start, end));
}
