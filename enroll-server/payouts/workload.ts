/**
 * Workload GPU-seconds a node earns in a period from its signed usage reports: only inside its up
 * minutes, never more GPUs than it had, at the GPU class in force when the report began.
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

export interface UsageSource {
  /** Σ over reports with from ≥ `from` and to ≤ `to` of min(Σ gpus × seconds, window seconds × `gpus`). */
  sumWithin(from: number, to: number, gpus: number): number;
  /** Reports with from < `at` < to. */
  crossing(at: number): readonly UsageReportDetail[];
}

/** A usage source over reports held in memory (tests, small estimates). */
export function usageFromReports(reports: readonly UsageReportDetail[]): UsageSource {
  return {
    sumWithin(from, to, gpus) {
      return reports
        .filter((r) => r.from >= from && r.to <= to)
        .reduce(
          (sum, r) =>
            sum +
            Math.min(
              r.workloads.reduce((s, w) => s + w.gpus * w.seconds, 0),
              Math.floor((r.to - r.from) / 1000) * gpus,
            ),
          0,
        );
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

/** GPU-seconds earned by one report that crosses the edge of an up stretch or a hardware change. */
function partialSeconds(
  r: UsageReportDetail,
  up: readonly MinuteRange[],
  start: number,
  end: number,
  gpus: number,
): number {
  const from = Math.max(r.from, start);
  const to = Math.min(r.to, end);
  const window = r.to - r.from;
  if (to <= from || window <= 0) return 0;
  const upSeconds = Math.floor(overlapMs(up, from, to) / 1000);
  if (upSeconds === 0) return 0;
  const earned = r.workloads.reduce(
    (sum, w) => sum + Math.min(Math.floor((w.seconds * (to - from)) / window), upSeconds) * w.gpus,
    0,
  );
  return Math.min(earned, upSeconds * gpus);
}

type Piece = ClassSegment & { pieceFrom: number; pieceTo: number };

/** Up time cut by hardware segments: the stretches whose reports are summed whole. */
function piecesOf(
  up: readonly MinuteRange[],
  segments: readonly ClassSegment[],
  start: number,
  end: number,
): Piece[] {
  const pieces: Piece[] = [];
  for (const s of segments) {
    for (const [a, b] of up) {
      const pieceFrom = Math.max(a * MINUTE_MS, s.from, start);
      const pieceTo = Math.min(b * MINUTE_MS, s.to, end);
      if (pieceTo > pieceFrom) pieces.push({ ...s, pieceFrom, pieceTo });
    }
  }
  return pieces;
}

const cutsOf = (pieces: readonly Piece[]): number[] => [
  ...new Set(pieces.flatMap((p) => [p.pieceFrom, p.pieceTo])),
];

/** What a node's workload needs from its usage source: these sums, and the reports crossing these cuts. */
export interface UsageQueries {
  sums: readonly { from: number; to: number; gpus: number }[];
  cuts: readonly number[];
}

/** The source's answers, in the order of the queries. */
export interface UsageAnswers {
  sums: readonly number[];
  crossings: readonly (readonly UsageReportDetail[])[];
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
  };
}

/** A usage source that answers exactly the prefetched queries (anything else is a bug, and throws). */
export function usageFromAnswers(queries: UsageQueries, answers: UsageAnswers): UsageSource {
  const sums = new Map(queries.sums.map((q, i) => [`${q.from}:${q.to}:${q.gpus}`, answers.sums[i] ?? 0]));
  const crossings = new Map(queries.cuts.map((cut, i) => [cut, answers.crossings[i] ?? []]));
  return {
    sumWithin(from, to, gpus) {
      const sum = sums.get(`${from}:${to}:${gpus}`);
      if (sum === undefined) throw new Error(`usage sum ${from}–${to} × ${gpus} was not fetched`);
      return sum;
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
  const add = (cls: string, seconds: number) =>
    seconds > 0 && byClass.set(cls, (byClass.get(cls) ?? 0) + seconds);
  const pieces = piecesOf(up, segments, start, end);
  for (const p of pieces) add(p.cls, usage.sumWithin(p.pieceFrom, p.pieceTo, p.gpus));
  const seen = new Set<number>();
  for (const cut of cutsOf(pieces)) {
    for (const r of usage.crossing(cut)) {
      if (seen.has(r.seq)) continue;
      seen.add(r.seq);
      const at = Math.max(r.from, start);
      const segment = segments.find((s) => at >= s.from && at < s.to) ?? segments[0];
      if (segment) add(segment.cls, partialSeconds(r, up, start, end, segment.gpus));
    }
  }
  return byClass;
}
