/**
 * Golden statements computed by hand. Rate card: rtx4090 availability 200 000 uusd per GPU-hour
 * ($0.20), workload 500 000 ($0.50); rtx3090 availability 150 000. A period of one day = 1 440 minutes.
 */
import { describe, expect, it } from 'vitest';
import { formatUsd } from '../../enroll-server/payouts/money.js';
import {
  type HardwareAt,
  type NodeInput,
  type RateCard,
  computeLine,
  totalsOf,
} from '../../enroll-server/payouts/statement.js';
import { canonicalJson, lineJson } from '../../enroll-server/payouts/statement-json.js';
import { usageFromReports } from '../../enroll-server/payouts/workload.js';

const DAY = Date.parse('2026-11-02T00:00:00Z');
const h = (hours: number, minutes = 0) => DAY + hours * 3_600_000 + minutes * 60_000;
const period = { periodId: 'per_day', start: h(0), end: h(24) };
const card: RateCard = {
  version: 3,
  effectiveFrom: 0,
  rates: {
    'nvidia/rtx4090/24Gi': { availability: 200_000n, workload: 500_000n },
    'nvidia/rtx3090/24Gi': { availability: 150_000n, workload: 400_000n },
    'cpu-only': { availability: 10_000n, workload: 0n },
  },
};
const rtx4090: HardwareAt[] = [{ at: 0, classes: new Map([['nvidia/rtx4090/24Gi', 1]]) }];

function node(partial: Partial<NodeInput>): NodeInput {
  return {
    nodeId: 'node_a',
    ownerId: 'own_a',
    hardware: rtx4090,
    presence: [],
    usage: usageFromReports([]),
    adjustments: [],
    ...partial,
  };
}

describe('golden statements', () => {
  it('full tier: up 1 380 of 1 440 minutes (95.8%) earns the whole day', () => {
    const line = computeLine(
      node({
        presence: [
          { start: h(0), end: h(10) },
          { start: h(11), end: h(24) },
        ],
      }),
      period,
      card,
      [],
    );
    expect(line).toMatchObject({
      periodMinutes: 1440,
      upMinutes: 1380,
      creditedMinutes: 0,
      uptimeTier: 'full',
    });
    // 1 GPU × 1 440 min × 200 000 / 60
    expect(line.availabilityUusd).toBe(4_800_000n);
    expect(line.totalUusd).toBe(4_800_000n);
  });

  it('pro-rata tier: up 1 200 minutes (83.3%) earns those minutes only', () => {
    const line = computeLine(node({ presence: [{ start: h(0), end: h(20) }] }), period, card, []);
    expect(line).toMatchObject({ upMinutes: 1200, uptimeTier: 'pro-rata' });
    expect(line.availabilityUusd).toBe(4_000_000n); // 1 200 × 200 000 / 60
  });

  it('ineligible: up 1 000 minutes (69%) earns no availability', () => {
    const line = computeLine(node({ presence: [{ start: h(0), end: h(16, 40) }] }), period, card, []);
    expect(line).toMatchObject({ upMinutes: 1000, uptimeTier: 'none', availabilityUusd: 0n, totalUusd: 0n });
  });

  it('pays workload only inside up minutes, and reports the rounding residual', () => {
    const one = [{ gpus: 1, seconds: 300 }];
    const usage = usageFromReports([
      // Entirely inside up time: 1 GPU × 300 s.
      { seq: 1, from: h(10), to: h(10, 5), workloads: one },
      // Up only until 12:00, so 2 of its 5 minutes: min(300, 120) = 120 s.
      { seq: 2, from: h(11, 58), to: h(12, 3), workloads: one },
      // After the node went down: nothing.
      { seq: 3, from: h(13), to: h(13, 5), workloads: one },
    ]);
    const line = computeLine(node({ presence: [{ start: h(0), end: h(12) }], usage }), period, card, []);
    expect(line).toMatchObject({ upMinutes: 720, uptimeTier: 'none', workloadGpuMinutes: 7 });
    // 7 GPU-minutes × 500 000 / 60 = 58 333.33…: 58 333 paid, 20/60 uusd left as residual.
    expect(line.workloadUusd).toBe(58_333n);
    expect(line.residual60ths).toBe(20n);
    expect(totalsOf([line]).roundingResidual60ths).toBe(20n);
  });

  it('credits a declared outage to a node that was up right before it, not to one that was down', () => {
    const outage = [{ start: h(10), end: h(14) }];
    const upBefore = computeLine(
      node({
        presence: [
          { start: h(0), end: h(10) },
          { start: h(14), end: h(24) },
        ],
      }),
      period,
      card,
      outage,
    );
    expect(upBefore).toMatchObject({
      upMinutes: 1200,
      creditedMinutes: 240,
      uptimeTier: 'full',
      availabilityUusd: 4_800_000n,
    });
    const downBefore = computeLine(
      node({
        nodeId: 'node_b',
        presence: [
          { start: h(0), end: h(9) },
          { start: h(14), end: h(24) },
        ],
      }),
      period,
      card,
      outage,
    );
    expect(downBefore).toMatchObject({
      upMinutes: 1140,
      creditedMinutes: 0,
      uptimeTier: 'none',
      availabilityUusd: 0n,
    });
  });

  it('splits a mid-period GPU change by time', () => {
    const hardware: HardwareAt[] = [
      ...rtx4090,
      { at: h(12), classes: new Map([['nvidia/rtx3090/24Gi', 2]]) },
    ];
    const line = computeLine(node({ hardware, presence: [{ start: h(0), end: h(24) }] }), period, card, []);
    expect(line.paidGpuMinutes).toEqual({ 'nvidia/rtx4090/24Gi': 720, 'nvidia/rtx3090/24Gi': 1440 });
    // 720 × 200 000 / 60 + 1 440 × 150 000 / 60 = 2 400 000 + 3 600 000
    expect(line.availabilityUusd).toBe(6_000_000n);
    expect(line.gpuClass).toBe('nvidia/rtx4090/24Gi+nvidia/rtx3090/24Gi');
  });

  it('adds adjustments (also negative) to the total, and warns about a class the card lacks', () => {
    const line = computeLine(
      node({
        hardware: [{ at: 0, classes: new Map([['nvidia/h100/80Gi', 1]]) }],
        presence: [{ start: h(0), end: h(24) }],
        adjustments: [1_500_000n, -250_000n],
      }),
      period,
      card,
      [],
    );
    expect(line).toMatchObject({ availabilityUusd: 0n, adjustmentsUusd: 1_250_000n, totalUusd: 1_250_000n });
    expect(line.warnings).toEqual(['rate card 3 has no rate for nvidia/h100/80Gi; paid at 0']);
    expect(formatUsd(line.totalUusd)).toBe('1.250000');
    expect(canonicalJson(lineJson(line))).toContain('"totalUusd":"1250000"');
  });
});
