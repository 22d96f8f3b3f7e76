/** Sets of whole minutes as sorted, disjoint half-open ranges of minute indexes ([a, b) = a … b−1). */
import { type Span, mergeSpans } from '../core/uptime.js';

// A local constant: this module runs in the statement's inner loops.
const MINUTE_MS = 60_000;

export type MinuteRange = readonly [number, number];

export function normalize(ranges: readonly MinuteRange[]): MinuteRange[] {
  const sorted = ranges.filter((r) => r[1] > r[0]).sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  return out;
}

/** The minutes in [from, to) (ms) touched by any span; an instant counts its own minute. */
export function minutesTouched(spans: readonly Span[], from: number, to: number): MinuteRange[] {
  const lo = Math.floor(from / MINUTE_MS);
  const hi = Math.ceil(to / MINUTE_MS);
  return normalize(
    mergeSpans(spans, from, to).map((s): MinuteRange => {
      const a = Math.floor(s.start / MINUTE_MS);
      const b = s.end > s.start ? Math.ceil(s.end / MINUTE_MS) : a + 1;
      return [Math.max(a, lo), Math.min(b, hi)];
    }),
  );
}

export function count(ranges: readonly MinuteRange[]): number {
  return ranges.reduce((n, [a, b]) => n + (b - a), 0);
}

export function union(x: readonly MinuteRange[], y: readonly MinuteRange[]): MinuteRange[] {
  return normalize([...x, ...y]);
}

export function intersect(x: readonly MinuteRange[], y: readonly MinuteRange[]): MinuteRange[] {
  const out: MinuteRange[] = [];
  let i = 0;
  let j = 0;
  while (i < x.length && j < y.length) {
    const [a1, b1] = x[i]!;
    const [a2, b2] = y[j]!;
    const a = Math.max(a1, a2);
    const b = Math.min(b1, b2);
    if (a < b) out.push([a, b]);
    if (b1 < b2) i += 1;
    else j += 1;
  }
  return out;
}

export function subtract(x: readonly MinuteRange[], y: readonly MinuteRange[]): MinuteRange[] {
  const out: MinuteRange[] = [];
  for (const [a0, b] of x) {
    let a = a0;
    for (const [c, d] of y) {
      if (d <= a || c >= b) continue;
      if (c > a) out.push([a, c]);
      a = Math.max(a, d);
      if (a >= b) break;
    }
    if (a < b) out.push([a, b]);
  }
  return out;
}

export function contains(ranges: readonly MinuteRange[], minute: number): boolean {
  return ranges.some(([a, b]) => minute >= a && minute < b);
}

/** Milliseconds of [from, to) covered by the (sorted, disjoint) minute ranges. */
export function overlapMs(ranges: readonly MinuteRange[], from: number, to: number): number {
  // Binary search for the first range that ends after `from`.
  let lo = 0;
  let hi = ranges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ranges[mid]![1] * MINUTE_MS <= from) lo = mid + 1;
    else hi = mid;
  }
  let ms = 0;
  for (let i = lo; i < ranges.length; i += 1) {
    const [a, b] = ranges[i]!;
    const start = Math.max(a * MINUTE_MS, from);
    if (start >= to) break;
    const end = Math.min(b * MINUTE_MS, to);
    if (end > start) ms += end - start;
  }
  return ms;
}
