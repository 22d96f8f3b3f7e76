/**
 * The pure parts of the control channel's limits, on an injected clock: token buckets, per-node
 * frame budgets, the connection gate, the hardware-history rule, what is kept of reported facts
 * and how much a shell session may record.
 */
import { describe, expect, it } from 'vitest';
import { ConnectionGate } from '../../enroll-server/control/connection-gate.js';
import { FRAME_BUDGETS, FrameBudgets } from '../../enroll-server/control/frame-budgets.js';
import { RecordingBudget } from '../../enroll-server/control/recording-budget.js';
import { TokenBucket } from '../../enroll-server/control/token-bucket.js';
import { DEFAULT_CONTROL_LIMITS, loadConfig } from '../../enroll-server/core/config.js';
import { RateLimitedError, UnavailableError } from '../../enroll-server/core/errors.js';
import { knownChecks, knownHardware } from '../../enroll-server/nodes/hardware-facts.js';
import { historyWrite } from '../../enroll-server/nodes/hardware-history.js';
import { HEARTBEAT_INTERVAL_MS, USAGE_INTERVAL_MS } from '../../protocol/control.js';
import { rtx4090Hardware } from '../helpers/enrollment.js';

const MiB = 1024 * 1024;

describe('token bucket', () => {
  it('gives its burst at once, then refills at its rate, never above the burst', () => {
    const bucket = new TokenBucket({ burst: 4, perSecond: 1 / 5 }, 0);
    expect([1, 2, 3, 4, 5].map(() => bucket.take(0))).toEqual([true, true, true, true, false]);
    expect(bucket.retryAfterSeconds(0)).toBe(5);
    expect(bucket.take(4_999)).toBe(false);
    expect(bucket.take(5_000)).toBe(true);
    expect(bucket.full(1_000_000)).toBe(true);
    expect([1, 2, 3, 4, 5].map(() => bucket.take(1_000_000))).toEqual([true, true, true, true, false]);
  });
});

describe('frame budgets', () => {
  it("never refuse a real agent's traffic: a heartbeat every 15 s, a report every 5 minutes, a day's spool at once", () => {
    const budgets = new FrameBudgets(1);
    let t = 0;
    for (let i = 0; i < 288; i += 1) expect(budgets.take('n1', 'usage', t)).toBe(true);
    for (; t < 6 * 3_600_000; t += HEARTBEAT_INTERVAL_MS) {
      expect(budgets.take('n1', 'heartbeat', t)).toBe(true);
      if (t % USAGE_INTERVAL_MS === 0) expect(budgets.take('n1', 'usage', t)).toBe(true);
    }
  });

  it('refuse a flood, per node and per type, and scale with the factor', () => {
    const budgets = new FrameBudgets(1);
    const taken = Array.from({ length: 10 }, () => budgets.take('n1', 'heartbeat', 0)).filter(Boolean);
    expect(taken).toHaveLength(FRAME_BUDGETS.heartbeat.burst);
    expect(budgets.take('n2', 'heartbeat', 0)).toBe(true);
    expect(budgets.take('n1', 'usage', 0)).toBe(true);
    const fast = new FrameBudgets(50);
    expect(Array.from({ length: 200 }, () => fast.take('n1', 'heartbeat', 0)).filter(Boolean)).toHaveLength(
      200,
    );
  });

  it('forget a node once its buckets are full again', () => {
    const budgets = new FrameBudgets(1);
    budgets.take('n1', 'hello', 0);
    budgets.sweep(1_000);
    expect(budgets.size).toBe(1);
    budgets.sweep(61_000);
    expect(budgets.size).toBe(0);
  });
});

describe('connection gate', () => {
  const gate = (overrides: Partial<typeof DEFAULT_CONTROL_LIMITS> = {}, now = () => 0) =>
    new ConnectionGate({ ...DEFAULT_CONTROL_LIMITS, ...overrides }, now);

  it('counts live and pending connections in total and per address, and forgets them when closed', () => {
    const g = gate({ maxConnections: 3, maxPerAddress: 2 });
    const a = g.admit('10.0.0.1');
    a.live();
    const b = g.admit('10.0.0.1');
    b.live();
    expect(() => g.admit('10.0.0.1')).toThrow(RateLimitedError);
    const c = g.admit('10.0.0.2');
    expect(() => g.admit('10.0.0.3')).toThrow(UnavailableError);
    expect(g.connections).toBe(3);
    a.release();
    a.release();
    c.release();
    expect(g.connections).toBe(1);
    expect(() => g.admit('10.0.0.1').release()).not.toThrow();
  });

  it('limits upgrades being checked at once per address, and refused ones per window', () => {
    let t = 0;
    const g = gate({ maxPendingPerAddress: 2, maxFailuresPerAddress: 3, failureWindowSeconds: 60 }, () => t);
    const pending = [g.admit('a'), g.admit('a')];
    expect(() => g.admit('a')).toThrow(/being checked at once \(2\)/);
    for (const p of pending) {
      p.failed();
      p.release();
    }
    const third = g.admit('a');
    third.failed();
    third.release();
    expect(() => g.admit('a')).toThrow(
      /Too many refused control connections from this address \(3 in 60 s\)/,
    );
    t = 61_000;
    expect(() => g.admit('a').release()).not.toThrow();
  });

  it('limits how often one node connects, with the wait in the error', () => {
    let t = 0;
    const g = gate({ nodeConnectBurst: 2, nodeConnectIntervalSeconds: 10 }, () => t);
    g.nodeConnect('n1');
    g.nodeConnect('n1');
    let error: unknown;
    try {
      g.nodeConnect('n1');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).headers).toEqual({ 'retry-after': '10' });
    g.nodeConnect('n2');
    t = 10_000;
    expect(() => g.nodeConnect('n1')).not.toThrow();
  });
});

describe('hardware history rule', () => {
  const hw = rtx4090Hardware();
  const two = { ...hw, gpus: [hw.gpus[0]!, { ...hw.gpus[0]!, uuid: 'GPU-2' }] };
  const latest = { at: 1_000, hardware: hw };

  it('writes nothing for the same facts and amends the newest row when the GPUs are the same', () => {
    const approved = { status: 'active' as const, approvedAt: 500 };
    expect(historyWrite(undefined, approved, hw)).toBe('append');
    expect(historyWrite(latest, approved, structuredClone(hw))).toBe('none');
    expect(historyWrite(latest, approved, { ...hw, os: { ...hw.os, kernel: 'other' } })).toBe('amend-latest');
  });

  it('keeps the row a paid node was approved with: the first change after the approval adds one row', () => {
    const approvedWith = { at: 400, hardware: hw };
    const fewerCores = { ...hw, cpu: { ...hw.cpu, cores: 8 } };
    expect(historyWrite(approvedWith, { status: 'active', approvedAt: 500 }, fewerCores)).toBe('append');
    expect(historyWrite(approvedWith, { status: 'pending', approvedAt: null }, fewerCores)).toBe(
      'amend-latest',
    );
  });

  it('adds a row when other GPUs replace ones that were paid, and amends while unpaid since that row', () => {
    expect(historyWrite(latest, { status: 'active', approvedAt: 500 }, two)).toBe('append');
    expect(historyWrite(latest, { status: 'pending', approvedAt: 500 }, two)).toBe('amend-latest');
    expect(historyWrite(latest, { status: 'pending', approvedAt: null }, two)).toBe('amend-latest');
    // Approved after the newest row was written: that row was in force while paid.
    expect(historyWrite(latest, { status: 'pending', approvedAt: 2_000 }, two)).toBe('append');
  });
});

describe('reported facts', () => {
  it('keep only the fields the schema knows', () => {
    const hw = rtx4090Hardware();
    const noisy = JSON.parse(
      JSON.stringify({
        ...hw,
        extra: 1,
        cpu: { ...hw.cpu, flags: 'sse' },
        gpus: [{ ...hw.gpus[0], x: [1] }],
      }),
    ) as typeof hw;
    expect(knownHardware(noisy)).toEqual(hw);
    const check = { id: 'arch', status: 'pass' as const, summary: 's', detail: 'd', fix: '' };
    expect(knownChecks([{ ...check, trace: 'long' } as typeof check])).toEqual([check]);
  });
});

describe('recording budget', () => {
  it('gives a session the per-session cap, or what is left of the node-day', () => {
    const budget = new RecordingBudget({
      recordingMaxBytes: 50 * MiB,
      recordingMaxBytesPerNodeDay: 200 * MiB,
    });
    expect(budget.allowance('n1', 0)).toEqual({
      maxBytes: 50 * MiB,
      limitText: 'the limit of 50 MiB per session',
    });
    const live = { recordedBytes: 30 * MiB };
    const untrack = budget.track('n1', live);
    expect(budget.allowance('n1', 140 * MiB)).toEqual({
      maxBytes: 30 * MiB,
      limitText: "this machine's limit of 200 MiB of recordings in 24 hours",
    });
    expect(budget.allowance('n2', 0).maxBytes).toBe(50 * MiB);
    untrack();
    expect(budget.allowance('n1', 250 * MiB).maxBytes).toBe(0);
  });
});

describe('configuration', () => {
  it('reads the control limits and key limits from the environment, naming a bad value', () => {
    const config = loadConfig({
      HOMENODE_DEV: '1',
      HOMENODE_CONTROL_MAX_PER_ADDRESS: '10000',
      HOMENODE_CONTROL_FRAME_BUDGET_FACTOR: '20',
      HOMENODE_OWNER_KEY_MAX_USES: '10',
      HOMENODE_SHELL_RECORDING_MAX_MIB: '5',
    });
    expect(config.control).toMatchObject({
      maxPerAddress: 10_000,
      frameBudgetFactor: 20,
      maxConnections: 15_000,
    });
    expect(config.keys).toMatchObject({ ownerMaxUses: 10, ownerMaxTtlHours: 168, maxUses: 1000 });
    expect(config.shell.recordingMaxBytes).toBe(5 * MiB);
    expect(() => loadConfig({ HOMENODE_DEV: '1', HOMENODE_CONTROL_MAX_CONNECTIONS: 'lots' })).toThrow(
      'HOMENODE_CONTROL_MAX_CONNECTIONS="lots": must be a whole number from 1 to 1000000',
    );
  });
});
