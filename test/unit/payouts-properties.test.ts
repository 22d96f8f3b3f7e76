/** Invariants of statements over random presence, outages, usage and hardware (fast-check). */
import fc from 'fast-check';
import { minutesTouched, overlapMs } from '../../enroll-server/payouts/minute-ranges.js';
import { usageFromReports } from '../../enroll-server/payouts/workload.js';
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

interface RawNode {
  presence: { start: number; end: number }[];
  hardware: HardwareAt[];
  usage: { from: number; len: number; gpus: number; seconds: number }[];
  adjustments: bigint[];
}

function toNode(i: number, n: RawNode): NodeInput {
  return {
    nodeId: `node_${i}`,
    ownerId: `own_${i % 3}`,
    presence: n.presence,
    hardware: n.hardware,
    adjustments: n.adjustments,
    usage: usageFromReports(
      n.usage.map((u, seq) => ({
        seq,
        from: u.from,
        to: u.from + u.len,
        workloads: [{ gpus: u.gpus, seconds: u.seconds }],
      })),
    ),
  };
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
        const up = minutesTouched(node.presence, period.start, period.end);
        // A hardware change counts from the first whole minute at or after it.
        const classAt = (at: number) => {
          let current = node.hardware[0]!.classes;
          for (const h of node.hardware) if (Math.ceil(h.at / 60_000) * 60_000 <= at) current = h.classes;
          return current;
        };
        let expected = 0;
        const byClass = new Map<string, number>();
        for (const [seq, u] of raw.usage.entries()) {
          void seq;
          const from = Math.max(u.from, period.start);
          const to = Math.min(u.from + u.len, period.end);
          if (to <= from) continue;
          const upSeconds = Math.floor(overlapMs(up, from, to) / 1000);
          if (upSeconds === 0) continue;
          const classes = classAt(Math.max(u.from, period.start));
          const gpus = [...classes.values()].reduce((a, b) => a + b, 0);
          const inside = Math.floor((u.seconds * (to - from)) / u.len);
          const earned = Math.min(Math.min(inside, upSeconds) * u.gpus, upSeconds * gpus);
          const cls = primaryClass(classes);
          byClass.set(cls, (byClass.get(cls) ?? 0) + earned);
        }
        for (const seconds of byClass.values()) expected += Math.floor(seconds / 60);
        expect(computeLine(node, period, card, []).workloadGpuMinutes).toBe(expected);
      }),
      { numRuns: 500 },
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
