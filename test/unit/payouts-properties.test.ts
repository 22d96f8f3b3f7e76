/**
 * Invariants of statements over random presence, outages, usage and hardware (fast-check). Usage
 * reports here may overlap (as if storage had not kept its rule): the statement must still never
 * pay a window twice, nor more than up seconds × GPUs.
 */
import fc from 'fast-check';
import { mergeSpans } from '../../enroll-server/core/uptime.js';
import { minutesTouched, overlapMs } from '../../enroll-server/payouts/minute-ranges.js';
import { usageFromReports, workloadSecondsByClass } from '../../enroll-server/payouts/workload.js';
import { describe, expect, it } from 'vitest';
import {
  type HardwareAt,
  type NodeInput,
  type RateCard,
  computeLine,
  primaryClass,
  sortLines,
  totalsOf,
} from '../../enroll-server/payouts/statement.js';
import {
  lineJson,
  statementHash,
  totalsJson,
  type StatementJson,
} from '../../enroll-server/payouts/statement-json.js';

const START = Date.parse('2026-11-02T00:00:00Z');
const WEEK = 7 * 24 * 3_600_000;
const period = { periodId: 'per_p', start: START, end: START + WEEK };
const card: RateCard = {
  version: 1,
  effectiveFrom: 0,
  rates: {
    'nvidia/rtx4090/24Gi': { availability: 200_000n, workload: 500_000n },
    'nvidia/a100/80Gi': { availability: 900_001n, workload: 1_700_003n },
  },
};

const time = fc.integer({ min: START - 3_600_000, max: START + WEEK + 3_600_000 });
const span = fc
  .tuple(time, fc.integer({ min: 0, max: 2 * 86_400_000 }))
  .map(([s, d]) => ({ start: s, end: s + d }));
const classes = fc.constantFrom(
  new Map([['nvidia/rtx4090/24Gi', 1]]),
  new Map([['nvidia/rtx4090/24Gi', 2]]),
  new Map([['nvidia/a100/80Gi', 4]]),
  new Map([['cpu-only', 1]]),
);
const hardware = fc
  .array(fc.record({ at: time, classes }), { minLength: 1, maxLength: 3 })
  .map((h): HardwareAt[] => [...h].sort((a, b) => a.at - b.at));
// The server refuses a report whose workload claims more seconds than its window holds.
const usage = fc.array(
  fc
    .record({
      from: time,
      len: fc.integer({ min: 1000, max: 600_000 }),
      gpus: fc.integer({ min: 0, max: 8 }),
      share: fc.integer({ min: 0, max: 1000 }),
    })
    .map(({ share, ...u }) => ({ ...u, seconds: Math.floor((share * Math.floor(u.len / 1000)) / 1000) })),
  { maxLength: 30 },
);
const nodeArb = fc.record({
  presence: fc.array(span, { maxLength: 25 }),
  hardware,
  usage,
  adjustments: fc.array(fc.bigInt({ min: -5_000_000n, max: 5_000_000n }), { maxLength: 3 }),
});
const outages = fc.array(span, { maxLength: 4 });
// Busy nodes: reports crowded into two hours, fully used, around hardware changes in that time.
const soon = fc.integer({ min: START - 600_000, max: START + 2 * 3_600_000 });
const denseNodeArb = fc.record({
  presence: fc.array(
    fc.tuple(soon, fc.integer({ min: 0, max: 3 * 3_600_000 })).map(([s, d]) => ({ start: s, end: s + d })),
    { minLength: 1, maxLength: 4 },
  ),
  hardware: fc
    .array(fc.record({ at: soon, classes }), { minLength: 1, maxLength: 3 })
    .map((h): HardwareAt[] => [...h].sort((a, b) => a.at - b.at)),
  usage: fc.array(
    fc
      .record({
        from: soon,
        len: fc.integer({ min: 1000, max: 1_800_000 }),
        gpus: fc.integer({ min: 1, max: 8 }),
      })
      .map((u) => ({ ...u, seconds: Math.floor(u.len / 1000) })),
    { maxLength: 20 },
  ),
  adjustments: fc.constant<bigint[]>([]),
});

interface RawNode {
  presence: { start: number; end: number }[];
  hardware: HardwareAt[];
  usage: { from: number; len: number; gpus: number; seconds: number }[];
  adjustments: bigint[];
}

type RawUsage = RawNode['usage'][number] & { seq?: number };

function toNode(
  i: number,
  n: Omit<RawNode, 'usage'> & { usage: RawUsage[] },
  seqOf: (u: RawUsage, k: number) => number = (_, k) => k,
): NodeInput {
  return {
    nodeId: `node_${i}`,
    ownerId: `own_${i % 3}`,
    presence: n.presence,
    hardware: n.hardware,
    adjustments: n.adjustments,
    usage: usageFromReports(
      n.usage.map((u, k) => ({
        seq: seqOf(u, k),
        from: u.from,
        to: u.from + u.len,
        workloads: [{ gpus: u.gpus, seconds: u.seconds }],
      })),
    ),
  };
}

function shuffle<T>(items: T[], seed: number): T[] {
  let s = seed >>> 0;
  for (let i = items.length - 1; i > 0; i -= 1) {
    s = (Math.imul(s, 1_103_515_245) + 12_345) >>> 0;
    const j = s % (i + 1);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

const gpuCount = (classes: ReadonlyMap<string, number>) => [...classes.values()].reduce((a, b) => a + b, 0);

/** The node's hardware in force over the period: a change counts from the first whole minute at or after it. */
function segmentsOf(hardware: readonly HardwareAt[]) {
  const classAt = (at: number) => {
    let current = hardware[0]!.classes;
    for (const h of hardware) if (Math.ceil(h.at / 60_000) * 60_000 <= at) current = h.classes;
    return current;
  };
  const cuts = [
    period.start,
    ...hardware
      .map((h) => Math.ceil(h.at / 60_000) * 60_000)
      .filter((t) => t > period.start && t < period.end),
    period.end,
  ].sort((a, b) => a - b);
  return cuts.slice(1).map((to, k) => {
    const from = cuts[k]!;
    return { from, to, classes: classAt(from), gpus: gpuCount(classAt(from)) };
  });
}

/** Workload GPU-seconds by class, straight from the pure function statements use. */
function workloadOf(node: NodeInput): Map<string, number> {
  const up = minutesTouched(node.presence, period.start, period.end);
  const segments = segmentsOf(node.hardware).map((s) => ({
    from: s.from,
    to: s.to,
    cls: primaryClass(s.classes),
    gpus: s.gpus,
  }));
  return workloadSecondsByClass(node.usage, up, segments, period.start, period.end);
}

/**
 * The rule in docs/payouts.md applied report by report: in order of window start (then seq), the
 * part of a window no earlier window covers, scaled, within up time, at most up seconds × GPUs.
 */
function oneByOne(node: NodeInput, raw: RawNode): number {
  const up = minutesTouched(node.presence, period.start, period.end);
  const segments = segmentsOf(node.hardware);
  const byClass = new Map<string, number>();
  const reports = raw.usage.map((u, seq) => ({ ...u, seq })).sort((a, b) => a.from - b.from || a.seq - b.seq);
  let latestEnd = -Infinity;
  for (const u of reports) {
    const paidFrom = Math.max(u.from, latestEnd);
    latestEnd = Math.max(latestEnd, u.from + u.len);
    const from = Math.max(paidFrom, period.start);
    const to = Math.min(u.from + u.len, period.end);
    if (to <= from) continue;
    const upSeconds = Math.floor(overlapMs(up, from, to) / 1000);
    if (upSeconds === 0) continue;
    const inside = Math.floor((u.seconds * (to - from)) / u.len);
    let cap = 0;
    for (const s of segments) {
      const a = Math.max(from, s.from);
      const b = Math.min(to, s.to);
      if (b > a) cap += Math.floor(overlapMs(up, a, b) / 1000) * s.gpus;
    }
    const earned = Math.min(Math.min(inside, upSeconds) * u.gpus, cap);
    const segment = segments.find((s) => from >= s.from && from < s.to) ?? segments[0]!;
    const cls = primaryClass(segment.classes);
    byClass.set(cls, (byClass.get(cls) ?? 0) + earned);
  }
  let minutes = 0;
  for (const seconds of byClass.values()) minutes += Math.floor(seconds / 60);
  return minutes;
}

function statement(nodes: NodeInput[], outageSpans: { start: number; end: number }[]): StatementJson {
  const lines = sortLines(nodes.map((n) => computeLine(n, period, card, outageSpans)));
  return {
    periodId: period.periodId,
    start: 'a',
    end: 'b',
    status: 'locked',
    rateCardVersion: 1,
    lines: lines.map(lineJson),
    totals: totalsJson(totalsOf(lines)),
  };
}

describe('statement invariants', () => {
  it('totals equal the sum of the lines; nothing is negative but adjustments; up ≤ period; workload ≤ up', () => {
    fc.assert(
      fc.property(fc.array(nodeArb, { minLength: 1, maxLength: 5 }), outages, (raw, out) => {
        const nodes = raw.map((n, i) => toNode(i, n));
        const s = statement(nodes, out);
        const sum = (f: (l: StatementJson['lines'][number]) => string) =>
          s.lines.reduce((a, l) => a + BigInt(f(l)), 0n).toString();
        expect(s.totals.availabilityUusd).toBe(sum((l) => l.availabilityUusd));
        expect(s.totals.workloadUusd).toBe(sum((l) => l.workloadUusd));
        expect(s.totals.adjustmentsUusd).toBe(sum((l) => l.adjustmentsUusd));
        expect(s.totals.totalUusd).toBe(sum((l) => l.totalUusd));
        for (const [i, l] of s.lines.entries()) {
          expect(BigInt(l.availabilityUusd) >= 0n && BigInt(l.workloadUusd) >= 0n).toBe(true);
          expect(BigInt(l.totalUusd)).toBe(
            BigInt(l.availabilityUusd) + BigInt(l.workloadUusd) + BigInt(l.adjustmentsUusd),
          );
          expect(l.upMinutes).toBeGreaterThanOrEqual(0);
          expect(l.upMinutes + l.creditedMinutes).toBeLessThanOrEqual(l.periodMinutes);
          const node = nodes.find((n) => n.nodeId === l.nodeId)!;
          const maxGpus = Math.max(
            ...node.hardware.map((h) => [...h.classes.values()].reduce((a, b) => a + b, 0)),
          );
          expect(l.workloadGpuMinutes).toBeLessThanOrEqual(l.upMinutes * maxGpus);
          if (l.upMinutes === 0) expect(l.workloadGpuMinutes).toBe(0);
          void i;
        }
      }),
      { numRuns: 300 },
    );
  });

  it('recomputing gives the same hash, whatever the order the data comes in', () => {
    fc.assert(
      fc.property(fc.array(nodeArb, { minLength: 1, maxLength: 4 }), outages, (raw, out) => {
        const nodes = raw.map((n, i) => toNode(i, n));
        const first = statementHash(statement(nodes, out));
        const shuffled = [...nodes].reverse().map((n) => ({ ...n, presence: [...n.presence].reverse() }));
        expect(statementHash(statement(shuffled, [...out].reverse()))).toBe(first);
        expect(statementHash({ ...statement(nodes, out), status: 'computed' })).toBe(first);
      }),
      { numRuns: 200 },
    );
  });

  it('pays the same workload as reading every report one by one (the summing shortcut loses nothing)', () => {
    fc.assert(
      fc.property(nodeArb, (raw) => {
        const node = toNode(0, raw);
        expect(computeLine(node, period, card, []).workloadGpuMinutes).toBe(oneByOne(node, raw));
      }),
      { numRuns: 500 },
    );
  });

  it('never pays more workload than up seconds × GPUs, in the period and under the windows reported', () => {
    fc.assert(
      fc.property(fc.oneof(nodeArb, denseNodeArb), (raw) => {
        const node = toNode(0, raw);
        const up = minutesTouched(node.presence, period.start, period.end);
        const windows = mergeSpans(
          raw.usage.map((u) => ({ start: u.from, end: u.from + u.len })),
          period.start,
          period.end,
        );
        let upBound = 0;
        let windowBound = 0;
        for (const s of segmentsOf(node.hardware)) {
          upBound += Math.floor(overlapMs(up, s.from, s.to) / 1000) * s.gpus;
          for (const w of windows) {
            const a = Math.max(w.start, s.from);
            const b = Math.min(w.end, s.to);
            if (b > a) windowBound += Math.floor(overlapMs(up, a, b) / 1000) * s.gpus;
          }
        }
        const paid = [...workloadOf(node).values()].reduce((a, b) => a + b, 0);
        expect(paid).toBeLessThanOrEqual(upBound);
        // No instant is paid twice: overlapping reports share the time they cover.
        expect(paid).toBeLessThanOrEqual(windowBound);
      }),
      { numRuns: 500 },
    );
  });

  it('never pays a window twice: copies of reports under new seqs, in any order, change nothing', () => {
    fc.assert(
      fc.property(
        nodeArb,
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (raw, picks, seed) => {
          if (raw.usage.length === 0) return;
          const base = toNode(0, raw);
          const copies = picks.map((i, k) => ({
            ...raw.usage[i % raw.usage.length]!,
            seq: raw.usage.length + k,
          }));
          // The attacker's copies come later (higher seqs), in a shuffled order of arrival.
          const all = shuffle([...raw.usage.map((u, seq) => ({ ...u, seq })), ...copies], seed);
          const attacked = toNode(0, { ...raw, usage: all }, (u) => u.seq ?? 0);
          expect(workloadOf(attacked)).toEqual(workloadOf(base));
          expect(computeLine(attacked, period, card, [])).toEqual(computeLine(base, period, card, []));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('more up time never pays less availability', () => {
    fc.assert(
      fc.property(nodeArb, span, (raw, extra) => {
        const base = toNode(0, { ...raw, usage: [], adjustments: [] });
        const more = { ...base, presence: [...base.presence, extra] };
        expect(
          computeLine(more, period, card, []).availabilityUusd >=
            computeLine(base, period, card, []).availabilityUusd,
        ).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
