/** The audit schedule's pure rules: jitter, the retry ladder, stale, grace, the owner's cooldown, transitions. */
import { describe, expect, it } from 'vitest';
import {
  OWNER_COOLDOWN_MS,
  auditStateAt,
  nextRetryAt,
  nextScheduledAt,
  ownerRetryAt,
  reportDeadline,
  retryAfterSeconds,
  verifiedUntil,
  waitText,
} from '../../enroll-server/audits/audit-rules.js';
import { afterOutcome, firstState } from '../../enroll-server/audits/audit-transitions.js';
import { hardwareShortfalls } from '../../enroll-server/audits/hardware-regression.js';
import { resolvePolicy } from '../../protocol/policy.js';
import { rtx4090Hardware } from '../helpers/enrollment.js';

const policy = resolvePolicy().audit;
const MIN = 60_000;
const HOUR = 60 * MIN;
const T = Date.parse('2026-11-02T09:00:00Z');

describe('when a node is audited next', () => {
  it('spreads routine audits by at most ±10 % of the interval', () => {
    expect(nextScheduledAt(T, policy, () => 0.5)).toBe(T + 24 * HOUR);
    expect(nextScheduledAt(T, policy, () => 0)).toBe(T + 24 * HOUR - 2.4 * HOUR);
    expect(nextScheduledAt(T, policy, () => 0.999_999)).toBeLessThanOrEqual(T + 24 * HOUR + 2.4 * HOUR);
  });

  it('climbs the retry ladder after failures: 30 min, 1 h, 2 h, 4 h, then every 6 h', () => {
    const waits = [1, 2, 3, 4, 5, 6, 12].map((n) => (nextRetryAt(T, policy, n) - T) / MIN);
    expect(waits).toEqual([30, 60, 120, 240, 360, 360, 360]);
  });

  it('waits for a report as long as the suite may run plus two minutes', () => {
    expect(reportDeadline(T, policy)).toBe(T + 300_000 + 120_000);
  });
});

describe('the state people see and the time it verifies', () => {
  it('turns a pass stale after twice the interval', () => {
    expect(auditStateAt('passing', T, T + 48 * HOUR - 1, policy)).toBe('passing');
    expect(auditStateAt('passing', T, T + 48 * HOUR, policy)).toBe('stale');
    expect(auditStateAt('failing', T, T + 100 * HOUR, policy)).toBe('failing');
    expect(auditStateAt('never', null, T, policy)).toBe('never');
  });

  it('verifies a pass for two intervals, a failure or a new node for the grace period', () => {
    expect(verifiedUntil('passing', T, policy)).toBe(T + 48 * HOUR);
    expect(verifiedUntil('failing', T, policy)).toBe(T + 120 * MIN);
    expect(verifiedUntil('never', T, { ...policy, graceMinutes: 0 })).toBe(T);
  });

  it('lets the owner ask again 10 minutes after their last request, and says how long to wait', () => {
    expect(ownerRetryAt(null, T)).toBeNull();
    expect(ownerRetryAt(T, T + 9 * MIN)).toBe(T + OWNER_COOLDOWN_MS);
    expect(ownerRetryAt(T, T + 10 * MIN)).toBeNull();
    expect(retryAfterSeconds(T + 10 * MIN, T + 1)).toBe(600);
    expect(retryAfterSeconds(T, T + 5)).toBe(1);
    expect([waitText(1000), waitText(45_500), waitText(9 * MIN + 1)]).toEqual([
      '1 second',
      '46 seconds',
      '10 minutes',
    ]);
  });
});

describe('what an outcome does to its node', () => {
  const random = () => 0.5;
  const start = firstState('node_a', T);

  it('a first pass: passing, audited again in a day, a passing interval, no event', () => {
    const t = afterOutcome(
      start,
      { auditId: 'aud_1', status: 'passed', at: T + HOUR, failedChecks: [] },
      'never',
      null,
      policy,
      random,
    );
    expect(t.state).toMatchObject({
      state: 'passing',
      stateSince: T + HOUR,
      lastPassedAt: T + HOUR,
      lastAuditId: 'aud_1',
      failures: 0,
      nextAuditAt: T + 25 * HOUR,
      nextTrigger: 'schedule',
    });
    expect(t.interval).toEqual({
      nodeId: 'node_a',
      state: 'passing',
      startedAt: T + HOUR,
      verifiedUntil: T + 49 * HOUR,
      auditId: 'aud_1',
    });
    expect(t.event).toBeUndefined();
  });

  it('failures: failing from the first, grace from the first, events when it starts and when the checks change', () => {
    const passing = afterOutcome(
      start,
      { auditId: 'aud_1', status: 'passed', at: T, failedChecks: [] },
      'never',
      null,
      policy,
      random,
    ).state;
    const first = afterOutcome(
      passing,
      { auditId: 'aud_2', status: 'failed', at: T + HOUR, failedChecks: ['gpu'] },
      'passing',
      null,
      policy,
      random,
    );
    expect(first.state).toMatchObject({
      state: 'failing',
      stateSince: T + HOUR,
      failures: 1,
      nextAuditAt: T + HOUR + 30 * MIN,
      nextTrigger: 'retry',
    });
    expect(first.interval).toMatchObject({
      state: 'failing',
      startedAt: T + HOUR,
      verifiedUntil: T + 3 * HOUR,
    });
    expect(first.event).toBe('audit.failed');

    const again = afterOutcome(
      first.state,
      { auditId: 'aud_3', status: 'failed', at: T + 2 * HOUR, failedChecks: ['gpu'] },
      'failing',
      ['gpu'],
      policy,
      random,
    );
    expect(again.state).toMatchObject({ stateSince: T + HOUR, failures: 2, nextAuditAt: T + 3 * HOUR });
    expect(again.interval).toBeUndefined();
    expect(again.event).toBeUndefined();

    const other = afterOutcome(
      again.state,
      { auditId: 'aud_4', status: 'failed', at: T + 3 * HOUR, failedChecks: ['gpu', 'disk'] },
      'failing',
      ['gpu'],
      policy,
      random,
    );
    expect(other.event).toBe('audit.failed');
    expect(other.state.nextAuditAt).toBe(T + 5 * HOUR);

    const fixed = afterOutcome(
      other.state,
      { auditId: 'aud_5', status: 'passed', at: T + 4 * HOUR, failedChecks: [] },
      'failing',
      ['gpu', 'disk'],
      policy,
      random,
    );
    expect(fixed.state).toMatchObject({ state: 'passing', failures: 0, stateSince: T + 4 * HOUR });
    expect(fixed.event).toBe('audit.passed');
  });

  it('an unanswered audit keeps the state and the last verdict, and climbs the ladder', () => {
    const t = afterOutcome(
      start,
      { auditId: 'aud_x', status: 'error', at: T, failedChecks: [] },
      'never',
      null,
      policy,
      random,
    );
    expect(t.state).toMatchObject({
      state: 'never',
      lastAuditId: null,
      failures: 1,
      nextAuditAt: T + 30 * MIN,
    });
    expect(t.interval).toBeUndefined();
    // A node approved before audits existed has no interval yet: its grace starts with the first outcome.
    const legacy = afterOutcome(
      start,
      { auditId: 'aud_y', status: 'error', at: T, failedChecks: [] },
      null,
      null,
      policy,
      random,
    );
    expect(legacy.interval).toMatchObject({ state: 'never', startedAt: T, verifiedUntil: T + 120 * MIN });
  });
});

describe('hardware that no longer meets its approval', () => {
  const approved = rtx4090Hardware();
  const resolved = resolvePolicy();

  it('names fewer cores, threads, GPUs and less memory; the same machine has none', () => {
    expect(hardwareShortfalls(approved, approved, resolved)).toEqual([]);
    const smaller = {
      ...approved,
      cpu: { ...approved.cpu, cores: approved.cpu.cores - 4, threads: approved.cpu.threads - 8 },
      memory: { totalBytes: approved.memory.totalBytes / 2 },
      gpus: [],
    };
    const found = hardwareShortfalls(approved, smaller, resolved);
    expect(found.slice(0, 4)).toEqual([
      `CPU cores: ${approved.cpu.cores - 4}, approved with ${approved.cpu.cores}`,
      `CPU threads: ${approved.cpu.threads - 8}, approved with ${approved.cpu.threads}`,
      `GPUs: 0, approved with ${approved.gpus.length}`,
      expect.stringMatching(/^memory: \d+\.\d GiB, approved with \d+\.\d GiB$/),
    ]);
    // The policy's own check says it too (no GPU where one is required).
    expect(found.length).toBeGreaterThan(4);
  });

  it('lets memory move a little between boots', () => {
    const nearly = { ...approved, memory: { totalBytes: Math.floor(approved.memory.totalBytes * 0.97) } };
    expect(hardwareShortfalls(approved, nearly, resolved)).toEqual([]);
  });
});
