/**
 * Uptime arithmetic (DESIGN.md "Uptime and workload accounting"), pure: a node is up in a minute
 * when it held a live, countable session at any time in that minute. Missing data counts as down.
 */

export interface Span {
  start: number;
  end: number;
}

export const MINUTE_MS = 60_000;

/**
 * Sort and merge overlapping or touching spans, clipped to [from, to). A span that only touches
 * the window's edge is left out; an instant (a zero-length span) inside the window is kept.
 */
export function mergeSpans(spans: readonly Span[], from = -Infinity, to = Infinity): Span[] {
  // Plain loops: a payout statement calls this a few times for every node.
  const clipped: Span[] = [];
  for (const s of spans) {
    if (s.end <= s.start) {
      if (s.start >= from && s.start < to) clipped.push({ start: s.start, end: s.start });
      continue;
    }
    const start = Math.max(s.start, from);
    const end = Math.min(s.end, to);
    if (end > start) clipped.push({ start, end });
  }
  clipped.sort((a, b) => a.start - b.start);
  const merged: Span[] = [];
  for (const s of clipped) {
    const last = merged[merged.length - 1];
    if (last && s.start <= last.end) last.end = Math.max(last.end, s.end);
    else merged.push(s);
  }
  return merged;
}

/** The minute indexes (ms / 60 000) in [from, to) touched by any span. */
export function upMinuteIndexes(spans: readonly Span[], from: number, to: number): number[] {
  const minutes: number[] = [];
  let last = -Infinity;
  for (const s of mergeSpans(spans, from, to)) {
    const first = Math.floor(s.start / MINUTE_MS);
    // A span ending exactly on a minute boundary does not touch the next minute.
    const end = s.end > s.start ? Math.ceil(s.end / MINUTE_MS) - 1 : first;
    for (let m = Math.max(first, last + 1); m <= end; m += 1) {
      if (m * MINUTE_MS >= to) break;
      minutes.push(m);
      last = m;
    }
  }
  return minutes;
}

export function countUpMinutes(spans: readonly Span[], from: number, to: number): number {
  return upMinuteIndexes(spans, from, to).length;
}

/** Fraction (0–1) of the whole minutes in [from, to) in which the node was up. */
export function uptimeFraction(spans: readonly Span[], from: number, to: number): number {
  const total = Math.ceil(to / MINUTE_MS) - Math.floor(from / MINUTE_MS);
  if (total <= 0) return 0;
  return Math.min(1, countUpMinutes(spans, from, to) / total);
}

/** Seconds covered by the spans (merged, so overlaps count once). */
export function upSeconds(spans: readonly Span[], from = -Infinity, to = Infinity): number {
  return Math.floor(mergeSpans(spans, from, to).reduce((sum, s) => sum + (s.end - s.start), 0) / 1000);
}
