/**
 * The performance board's arithmetic (pure): quantiles, percentiles, the per-dollar figure, and
 * the anonymity rule (a class of fewer than three nodes shows its count only).
 */
import { describe, expect, it } from 'vitest';
import {
  MIN_NODES_FOR_FIGURES,
  computeBoard,
  percentileOf,
  quantile,
  standingIn,
} from '../../enroll-server/attestations/performance.js';

const RTX = 'nvidia/rtx4090/24Gi';
const node = (cpu: number, rtt: number, gpuClass = RTX) => ({
  gpuClass,
  gpus: 1,
  figures: { cpuEventsPerSecPerThread: cpu, networkRttMs: rtt },
});

describe('quantiles and percentiles', () => {
  it('interpolates between closest ranks', () => {
    expect(quantile([10, 20, 30, 40, 50], 0.5)).toBe(30);
    expect(quantile([10, 20, 30, 40], 0.5)).toBe(25);
    expect(quantile([10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110], 0.1)).toBe(20);
    expect(quantile([7], 0.9)).toBe(7);
    expect(() => quantile([], 0.5)).toThrow(RangeError);
  });

  it('counts how many a value is at least as good as, lower being better for times', () => {
    expect(percentileOf([100, 200, 300, 400], 300, true)).toBe(75);
    expect(percentileOf([10, 20, 30, 40], 20, false)).toBe(75);
  });
});

describe('the board', () => {
  it('gives p10, median, p90 and the median per dollar of a GPU-hour', () => {
    const board = computeBoard([node(1000, 30), node(1200, 20), node(1400, 10)], {
      [RTX]: { availabilityUusdPerGpuHour: '200000' },
    });
    expect(board).toHaveLength(1);
    const cpu = board[0]!.figures.find((f) => f.name === 'cpuEventsPerSecPerThread')!;
    expect(cpu).toMatchObject({
      samples: 3,
      p10: 1040,
      median: 1200,
      p90: 1360,
      medianPerUsd: 6000,
      unit: 'events/s',
    });
    // Lower is better for a round trip: no per-dollar figure.
    expect(board[0]!.figures.find((f) => f.name === 'networkRttMs')).toMatchObject({
      median: 20,
      medianPerUsd: null,
    });
    expect(board[0]).toMatchObject({ nodes: 3, gpus: 3, availabilityUusdPerGpuHour: '200000' });
  });

  it(`shows a class of fewer than ${MIN_NODES_FOR_FIGURES} nodes by its count only, and no price without a rate`, () => {
    const board = computeBoard([node(1000, 30), node(1200, 20), node(900, 10, 'nvidia/h100/80Gi')], {});
    expect(board.map((c) => [c.gpuClass, c.nodes, c.figures.length, c.availabilityUusdPerGpuHour])).toEqual([
      ['nvidia/h100/80Gi', 1, 0, null],
      [RTX, 2, 0, null],
    ]);
  });

  it("places a node's figures in its class", () => {
    const others = [node(1000, 30), node(1200, 20), node(1400, 10)];
    const own = node(1300, 25);
    const standing = standingIn([...others, own], own);
    expect(standing.nodes).toBe(4);
    expect(standing.figures).toEqual([
      {
        name: 'cpuEventsPerSecPerThread',
        unit: 'events/s',
        description: 'sysbench cpu per thread',
        value: 1300,
        percentile: 75,
        higherIsBetter: true,
      },
      {
        name: 'networkRttMs',
        unit: 'ms',
        description: 'median round trip to the server',
        value: 25,
        percentile: 50,
        higherIsBetter: false,
      },
    ]);
    expect(standingIn([node(1, 1), own], own).figures).toEqual([]);
  });
});
