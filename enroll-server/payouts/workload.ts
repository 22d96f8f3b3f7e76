/**
 * Workload GPU-seconds a node earns in a period from its signed usage reports: only inside its up
 * minutes, never more GPUs than it had, at the GPU class in force when the report began, and never
 * for the same time twice (DESIGN.md "Uptime and workload accounting").
 *
 * The server refuses a report that overlaps one already stored, but the statement does not rely on
 * it: reports are read in order of window start (then seq), and of a window that an earlier-starting
 * one overlaps only the part after every earlier window has ended is paid (`overlappedReports`).
 *
 * Most reports lie wholly inside one stretch of up time with one hardware configuration; those
 * are summed by the source (in SQL on the server). Only the few that cross the edge of such a
 * stretch are read one by one and cut to their part inside up time.
 *
 * `usageQueries` says which sums and crossings a node's line needs, so the server can fetch them
 * all at once (one asynchronous repository call per node) and answer them with `usageFromAnswers`.
 */
import { type MinuteRange, overlapMs } from './minute-ranges.js';

const MINUTE_MS = 60_000;

export interface UsageReportDetail {
  seq: number;
  from: number;
  to: number;
  workloads: readonly { gpus: number; seconds: number }[];
}

/** A report that a window starting earlier overlaps: only [paidFrom, to) of it may be paid. */
export interface OverlappedReport extends UsageReportDetail {
  /** The latest end of the windows that start before this one (or at its start with a lower seq), at most `to`. */
  paidFrom: number;
}

export interface UsageSource {
  /** Σ over reports with from ≥ `from` and to ≤ `to` of min(Σ gpus × seconds, window seconds × `gpus`). */
  sumWithin(from: number, to: number, gpus: number): number;
  /** Reports with from < `at` < to. */
  crossing(at: number): readonly UsageReportDetail[];
  /** The reports that an earlier-starting report overlaps (none, when storage kept its rule). */
  overlapped(): readonly OverlappedReport[];
}

/** Order of reading: window start, then seq. */
const byStart = (a: UsageReportDetail, b: UsageReportDetail) => a.from - b.from || a.seq - b.seq;

/** The reports an earlier-starting one overlaps, each with the point where its unpaid part begins. */
export function overlappedReports(reports: readonly UsageReportDetail[]): OverlappedReport[] {
  const out: OverlappedReport[] = [];
  let latestEnd = -Infinity;
  for (const r of [...reports].sort(byStart)) {
    if (r.from < latestEnd) out.push({ ...r, paidFrom: Math.min(latestEnd, r.to) });
    latestEnd = Math.max(latestEnd, r.to);
  }
  return out;
}

/** What the summing shortcut counted for a report wholly inside a stretch with `gpus` GPUs. */
export function summedSeconds(r: UsageReportDetail, gpus: number): number {
  return Math.min(
    r.workloads.reduce((s, w) => s + w.gpus * w.seconds, 0),
    Math.floor((r.to - r.from) / 1000) * gpus,
  );
}

/** A usage source over reports held in memory (tests, small estimates). */
export function usageFromReports(reports: readonly UsageReportDetail[]): UsageSource {
  let overlapped: OverlappedReport[] | undefined;
  return {
    overlapped: () => (overlapped ??= overlappedReports(reports)),
    sumWithin(from, to, gpus) {
      return reports
        .filter((r) => r.from >= from && r.to <= to)
        .reduce((sum, r) => sum + summedSeconds(r, gpus), 0);
    },
    crossing(at) {
      return reports.filter((r) => r.from < at && at < r.to);
    },
  };
}

export interface ClassSegment {
  /** [from, to) in ms, inside the period. */
  from: number;
  to: number;
  /** The class a workload is paid at, and how many GPUs the node had. */
  cls: string;
  gpus: number;
}

/**
 * GPU-seconds earned by the part [paidFrom, to) of one report read on its own (it crosses the edge
 * of an up stretch or a hardware change, or an earlier window overlaps it): scaled to that part,
 * no workload longer than the node was up there, and no more than up seconds × GPUs in each
 * hardware segment it spans.
 */
function partialSeconds(
  r: UsageReportDetail,
  paidFrom: number,
  up: readonly MinuteRange[],
  segments: readonly ClassSegment[],
  start: number,
  end: number,
): number {
  const from = Math.max(paidFrom, start);
  const to = Math.min(r.to, end);
  const window = r.to - r.from;
  if (to <= from || window <= 0) return 0;
  const upSeconds = Math.floor(overlapMs(up, from, to) / 1000);
  if (upSeconds === 0) return 0;
  const earned = r.workloads.reduce(
    (sum, w) => sum + Math.min(Math.floor((w.seconds * (to - from)) / window), upSeconds) * w.gpus,
    0,
  );
  let cap = 0;
  for (const s of segments) {
    const a = Math.max(from, s.from);
    const b = Math.min(to, s.to);
    if (b > a) cap += Math.floor(overlapMs(up, a, b) / 1000) * s.gpus;
  }
  return Math.min(earned, cap);
}

type Piece = ClassSegment & { pieceFrom: number; pieceTo: number };

/** Up time cut by hardware segments: the stretches whose reports are summed whole. */
function piecesOf(
  up: readonly MinuteRange[],
  segments: readonly ClassSegment[],
  start: number,
  end: number,
): Piece[] {
  // Plain loops and literals: this runs twice for every line of a statement.
  const pieces: Piece[] = [];
  for (const s of segments) {
    const lo = Math.max(s.from, start);
    const hi = Math.min(s.to, end);
    for (let i = 0; i < up.length; i += 1) {
      const range = up[i]!;
      const pieceFrom = Math.max(range[0] * MINUTE_MS, lo);
      const pieceTo = Math.min(range[1] * MINUTE_MS, hi);
      if (pieceTo > pieceFrom)
        pieces.push({ from: s.from, to: s.to, cls: s.cls, gpus: s.gpus, pieceFrom, pieceTo });
    }
  }
  return pieces;
}

/** Where pieces start and end, each once, in order (pieces are in time order and disjoint). */
function cutsOf(pieces: readonly Piece[]): number[] {
  const cuts: number[] = [];
  for (const p of pieces) {
    if (cuts[cuts.length - 1] !== p.pieceFrom) cuts.push(p.pieceFrom);
    cuts.push(p.pieceTo);
  }
  return cuts;
}

/** What a node's workload needs from its usage source: these sums, and the reports crossing these cuts. */
export interface UsageQueries {
  sums: readonly { from: number; to: number; gpus: number }[];
  cuts: readonly number[];
  /** The period: overlapped reports reaching into it are wanted. */
  start: number;
  end: number;
}

/** The source's answers, in the order of the queries. */
export interface UsageAnswers {
  sums: readonly number[];
  crossings: readonly (readonly UsageReportDetail[])[];
  /** The node's overlapped reports that reach into the period (`overlappedReports`). */
  overlapped: readonly OverlappedReport[];
}

export function usageQueries(
  up: readonly MinuteRange[],
  segments: readonly ClassSegment[],
  start: number,
  end: number,
): UsageQueries {
  const pieces = piecesOf(up, segments, start, end);
  return {
    sums: pieces.map((p) => ({ from: p.pieceFrom, to: p.pieceTo, gpus: p.gpus })),
    cuts: cutsOf(pieces),
    start,
    end,
  };
}

/** A usage source that answers exactly the prefetched queries (anything else is a bug, and throws). */
export function usageFromAnswers(queries: UsageQueries, answers: UsageAnswers): UsageSource {
  // Keyed by start: no two pieces of a line start at the same instant (up stretches and hardware
  // segments are disjoint); the end and GPU count are checked on the way out.
  const sums = new Map<number, { to: number; gpus: number; seconds: number }>();
  queries.sums.forEach((q, i) => sums.set(q.from, { to: q.to, gpus: q.gpus, seconds: answers.sums[i] ?? 0 }));
  const crossings = new Map(queries.cuts.map((cut, i) => [cut, answers.crossings[i] ?? []]));
  return {
    overlapped: () => answers.overlapped,
    sumWithin(from, to, gpus) {
      const sum = sums.get(from);
      if (sum === undefined || sum.to !== to || sum.gpus !== gpus)
        throw new Error(`usage sum ${from}–${to} × ${gpus} was not fetched`);
      return sum.seconds;
    },
    crossing(at) {
      const reports = crossings.get(at);
      if (reports === undefined) throw new Error(`usage crossing ${at} was not fetched`);
      return reports;
    },
  };
}

export function workloadSecondsByClass(
  usage: UsageSource,
  up: readonly MinuteRange[],
  segments: readonly ClassSegment[],
  start: number,
  end: number,
): Map<string, number> {
  const byClass = new Map<string, number>();
  const add = (cls: string, seconds: number) => {
    if (seconds !== 0) byClass.set(cls, (byClass.get(cls) ?? 0) + seconds);
  };
  const classAt = (at: number) => segments.find((s) => at >= s.from && at < s.to) ?? segments[0];
  const pieces = piecesOf(up, segments, start, end);
  for (const p of pieces) add(p.cls, usage.sumWithin(p.pieceFrom, p.pieceTo, p.gpus));

  // Reports read one by one: those crossing a cut, and those an earlier window overlaps.
  const paidFrom = new Map<number, number>();
  const alone = new Map<number, UsageReportDetail>();
  for (const r of usage.overlapped()) {
    paidFrom.set(r.seq, r.paidFrom);
    alone.set(r.seq, r);
    // The sums counted it whole if it lies wholly inside a piece: take that back out.
    const p = pieces.find((q) => r.from >= q.pieceFrom && r.to <= q.pieceTo);
    if (p) add(p.cls, -summedSeconds(r, p.gpus));
  }
  for (const cut of cutsOf(pieces)) for (const r of usage.crossing(cut)) alone.set(r.seq, r);
  for (const r of alone.values()) {
    const from = paidFrom.get(r.seq) ?? r.from;
    const segment = classAt(Math.max(from, start));
    if (segment) add(segment.cls, partialSeconds(r, from, up, segments, start, end));
  }
  for (const [cls, seconds] of byClass) if (seconds <= 0) byClass.delete(cls);
  return byClass;
}
