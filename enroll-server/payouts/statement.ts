/**
 * Payout statements (DESIGN.md "Uptime and workload accounting", "Payouts"), as a pure function of
 * presence, outages, usage reports, each node's GPU classes over time, a rate card and the
 * eligibility tiers. All money is bigint micro-USD; docs/payouts.md states every rule in words.
 */
import type { Span } from '../core/uptime.js';
import { divFloor } from './money.js';
import {
  type MinuteRange,
  contains,
  count,
  intersect,
  minutesTouched,
  normalize,
  subtract,
  union,
} from './minute-ranges.js';
import { unverifiedRanges } from './verified-time.js';
import { type UsageQueries, type UsageSource, usageQueries, workloadSecondsByClass } from './workload.js';

export interface ClassRate {
  /** uusd per GPU-hour of availability (per node-hour for `cpu-only`). */
  availability: bigint;
  /** uusd per GPU-hour of workload. */
  workload: bigint;
}

export interface RateCard {
  version: number;
  effectiveFrom: number;
  rates: Readonly<Record<string, ClassRate>>;
}

export interface Tiers {
  /** Uptime (percent) at or above which the full availability component is paid. */
  fullPct: number;
  /** Uptime (percent) below which no availability is paid; between the two it is pro rata. */
  minPct: number;
}

export const DEFAULT_TIERS: Tiers = { fullPct: 95, minPct: 80 };

export interface HardwareAt {
  at: number;
  /** GPU class → count (`cpu-only` → 1). */
  classes: ReadonlyMap<string, number>;
}

const MINUTE_MS = 60_000;

export interface NodeInput {
  nodeId: string;
  ownerId: string;
  /** Sorted by `at`; the entry in force at a minute is the last one at or before it (else the first). */
  hardware: readonly HardwareAt[];
  presence: readonly Span[];
  usage: UsageSource;
  adjustments: readonly bigint[];
  /** When the node was verified by its audits (verified-time.ts); absent: all of the period. */
  verified?: readonly Span[];
}

export interface PeriodInput {
  periodId: string;
  start: number;
  end: number;
}

export type UptimeTier = 'full' | 'pro-rata' | 'none';

export interface StatementLine {
  nodeId: string;
  ownerId: string;
  gpuClass: string;
  periodMinutes: number;
  upMinutes: number;
  creditedMinutes: number;
  /** Up minutes not paid for availability: the node's audits did not verify it then. */
  unverifiedMinutes: number;
  workloadGpuMinutes: number;
  uptimeTier: UptimeTier;
  availabilityUusd: bigint;
  workloadUusd: bigint;
  adjustmentsUusd: bigint;
  totalUusd: bigint;
  /** Availability GPU-minutes paid per class (explains availabilityUusd). */
  paidGpuMinutes: Record<string, number>;
  warnings: string[];
  /** Sixtieths of a uusd dropped by rounding this line down. */
  residual60ths: bigint;
}

/** The hardware entry in force at `at`. */
function classesAt(hardware: readonly HardwareAt[], at: number): ReadonlyMap<string, number> {
  let current = hardware[0]?.classes ?? new Map([['cpu-only', 1]]);
  for (const h of hardware) {
    if (h.at > at) break;
    current = h.classes;
  }
  return current;
}

/** Minute ranges of the period during which each hardware entry was in force. */
function hardwareSegments(
  hardware: readonly HardwareAt[],
  m0: number,
  m1: number,
): { classes: ReadonlyMap<string, number>; minutes: MinuteRange[] }[] {
  const segments: { classes: ReadonlyMap<string, number>; minutes: MinuteRange[] }[] = [];
  let from = m0;
  let classes = classesAt(hardware, m0 * MINUTE_MS);
  for (const h of hardware) {
    const m = Math.ceil(h.at / MINUTE_MS);
    if (m <= m0) continue;
    if (m >= m1) break;
    segments.push({ classes, minutes: [[from, m]] });
    from = m;
    classes = h.classes;
  }
  segments.push({ classes, minutes: [[from, m1]] });
  return segments;
}

/** The class a workload is paid at: the node's most numerous GPU class (alphabetical on a tie). */
export function primaryClass(classes: ReadonlyMap<string, number>): string {
  return [...classes].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0] ?? 'cpu-only';
}

/** Minutes of platform outage credited to the node: it was up in the minute the outage began or the one before. */
export function creditedMinutes(
  up: readonly MinuteRange[],
  upBefore: readonly MinuteRange[],
  outages: readonly Span[],
  m0: number,
  m1: number,
): MinuteRange[] {
  const credited: MinuteRange[] = [];
  for (const o of outages) {
    const first = Math.floor(o.start / MINUTE_MS);
    if (!contains(upBefore, first) && !contains(upBefore, first - 1)) continue;
    const range: MinuteRange = [Math.max(first, m0), Math.min(Math.ceil(o.end / MINUTE_MS), m1)];
    if (range[1] > range[0]) credited.push(range);
  }
  return subtract(normalize(credited), up);
}

function tierOf(eligible: number, period: number, tiers: Tiers): UptimeTier {
  if (eligible * 100 >= tiers.fullPct * period) return 'full';
  if (eligible * 100 >= tiers.minPct * period) return 'pro-rata';
  return 'none';
}

/** The minutes a node was up in the period, and its hardware segments with their paid class. */
function lineShape(node: Pick<NodeInput, 'hardware' | 'presence'>, period: PeriodInput) {
  const m0 = Math.floor(period.start / MINUTE_MS);
  const m1 = Math.floor(period.end / MINUTE_MS);
  const up = minutesTouched(node.presence, period.start, period.end);
  const segments = hardwareSegments(node.hardware, m0, m1);
  const classSegments = segments.map((seg, k) => ({
    from: k === 0 ? period.start : (seg.minutes[0]?.[0] ?? m0) * MINUTE_MS,
    to: k === segments.length - 1 ? period.end : (seg.minutes[0]?.[1] ?? m1) * MINUTE_MS,
    cls: primaryClass(seg.classes),
    gpus: [...seg.classes.values()].reduce((a, b) => a + b, 0),
  }));
  return { m0, m1, up, segments, classSegments };
}

/** What `computeLine` will ask the node's usage source, so that it can be fetched beforehand. */
export function lineUsageQueries(
  node: Pick<NodeInput, 'hardware' | 'presence'>,
  period: PeriodInput,
): UsageQueries {
  const { up, classSegments } = lineShape(node, period);
  return usageQueries(up, classSegments, period.start, period.end);
}

export function computeLine(
  node: NodeInput,
  period: PeriodInput,
  card: RateCard,
  outages: readonly Span[],
  tiers: Tiers = DEFAULT_TIERS,
): StatementLine {
  const { m0, m1, up, segments, classSegments } = lineShape(node, period);
  const periodMinutes = m1 - m0;
  // Whether the node was up right before an outage may depend on the minute before the period.
  const upBefore = minutesTouched(node.presence, period.start - MINUTE_MS, period.end);
  const credited = creditedMinutes(up, upBefore, outages, m0, m1);
  const eligible = union(up, credited);
  const tier = tierOf(count(eligible), periodMinutes, tiers);
  const warnings: string[] = [];
  const rate = (cls: string): ClassRate => {
    const r = card.rates[cls];
    if (!r && !warnings.some((w) => w.includes(cls)))
      warnings.push(`rate card ${card.version} has no rate for ${cls}; paid at 0`);
    return r ?? { availability: 0n, workload: 0n };
  };

  // Verified availability: the tier pays its minutes except those the audits did not verify.
  const unverified = node.verified ? unverifiedRanges(node.verified, period.start, period.end) : [];
  const paidGpuMinutes: Record<string, number> = {};
  let availability60 = 0n;
  for (const segment of segments) {
    const verifiedMinutes = subtract(segment.minutes, unverified);
    const minutes =
      tier === 'full'
        ? count(verifiedMinutes)
        : tier === 'pro-rata'
          ? count(intersect(verifiedMinutes, eligible))
          : 0;
    for (const [cls, n] of segment.classes) {
      const gpuMinutes = minutes * n;
      if (gpuMinutes === 0) continue;
      paidGpuMinutes[cls] = (paidGpuMinutes[cls] ?? 0) + gpuMinutes;
      availability60 += rate(cls).availability * BigInt(gpuMinutes);
    }
  }

  const workloadByClass = workloadSecondsByClass(node.usage, up, classSegments, period.start, period.end);
  let workload60 = 0n;
  let workloadGpuMinutes = 0;
  for (const [cls, seconds] of workloadByClass) {
    const minutes = Math.floor(seconds / 60);
    workloadGpuMinutes += minutes;
    workload60 += rate(cls).workload * BigInt(minutes);
  }

  const availability = divFloor(availability60, 60n);
  const workload = divFloor(workload60, 60n);
  const adjustmentsUusd = node.adjustments.reduce((a, b) => a + b, 0n);
  const classNames = [...new Set(segments.flatMap((s) => [...s.classes.keys()]))];
  return {
    nodeId: node.nodeId,
    ownerId: node.ownerId,
    gpuClass: classNames.join('+'),
    periodMinutes,
    upMinutes: count(up),
    creditedMinutes: count(credited),
    unverifiedMinutes: count(intersect(up, unverified)),
    workloadGpuMinutes,
    uptimeTier: tier,
    availabilityUusd: availability.quotient,
    workloadUusd: workload.quotient,
    adjustmentsUusd,
    totalUusd: availability.quotient + workload.quotient + adjustmentsUusd,
    paidGpuMinutes,
    warnings,
    residual60ths: availability.remainder + workload.remainder,
  };
}

export interface StatementTotals {
  nodes: number;
  availabilityUusd: bigint;
  workloadUusd: bigint;
  adjustmentsUusd: bigint;
  totalUusd: bigint;
  /** What rounding each line down to whole uusd left out, in sixtieths of a uusd. */
  roundingResidual60ths: bigint;
}

export function totalsOf(lines: readonly StatementLine[]): StatementTotals {
  const sum = (pick: (l: StatementLine) => bigint) => lines.reduce((a, l) => a + pick(l), 0n);
  return {
    nodes: lines.length,
    availabilityUusd: sum((l) => l.availabilityUusd),
    workloadUusd: sum((l) => l.workloadUusd),
    adjustmentsUusd: sum((l) => l.adjustmentsUusd),
    totalUusd: sum((l) => l.totalUusd),
    roundingResidual60ths: sum((l) => l.residual60ths),
  };
}

/** Lines in a stable order: by owner, then node. */
export function sortLines(lines: StatementLine[]): StatementLine[] {
  return lines.sort((a, b) => a.ownerId.localeCompare(b.ownerId) || a.nodeId.localeCompare(b.nodeId));
}
