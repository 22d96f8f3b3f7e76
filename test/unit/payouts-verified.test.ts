/**
 * Verified availability: golden statements computed by hand (one day, an RTX 4090 at 200 000 uusd
 * per GPU-hour, so a verified up hour earns $0.20) and invariants over random audit histories:
 * unverified ≤ up, more verified time never pays less, workload is paid as before, and a statement
 * computed as of its lock is the same after any later audit.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { interval } from '../../enroll-server/audits/audit-transitions.js';
import {
  type NodeInput,
  type PeriodInput,
  type RateCard,
  computeLine,
} from '../../enroll-server/payouts/statement.js';
import { lineJson, statementHash } from '../../enroll-server/payouts/statement-json.js';
import {
  type AuditHistory,
  type AuditStateSpan,
  verifiedSpans,
} from '../../enroll-server/payouts/verified-time.js';
import { usageFromReports } from '../../enroll-server/payouts/workload.js';
import { resolvePolicy } from '../../protocol/policy.js';

const audit = resolvePolicy().audit;
const DAY = Date.parse('2026-11-02T00:00:00Z');
const MIN = 60_000;
const HOUR = 60 * MIN;
const h = (hours: number, minutes = 0) => DAY + hours * HOUR + minutes * MIN;
const period: PeriodInput = { periodId: 'per_day', start: h(0), end: h(24) };
const card: RateCard = {
  version: 1,
  effectiveFrom: 0,
  rates: { 'nvidia/rtx4090/24Gi': { availability: 200_000n, workload: 500_000n } },
};
const hardware = [{ at: 0, classes: new Map([['nvidia/rtx4090/24Gi', 1]]) }];

/** A history from (state, start) steps, each ending where the next starts, as the server writes it. */
function history(steps: [state: 'never' | 'passing' | 'failing', at: number][]): AuditHistory {
  const intervals: AuditStateSpan[] = steps.map(([state, at], i) => {
    const row = interval('node_a', state, at, audit, null);
    return { startedAt: row.startedAt, endedAt: steps[i + 1]?.[1] ?? null, verifiedUntil: row.verifiedUntil };
  });
  return { intervals, firstStartedAt: steps[0]?.[1] ?? null };
}

function line(audits: AuditHistory | undefined, partial: Partial<NodeInput> = {}, asOf = h(25)) {
  const node: NodeInput = {
    nodeId: 'node_a',
    ownerId: 'own_a',
    hardware,
    presence: [{ start: h(0), end: h(24) }],
    usage: usageFromReports([]),
    adjustments: [],
    ...(audits ? { verified: verifiedSpans(audits, period.start, asOf) } : {}),
    ...partial,
  };
  return computeLine(node, period, card, []);
}

describe('verified availability: golden statements', () => {
  it('passing all day: every up minute is paid', () => {
    expect(line(history([['passing', h(-3)]]))).toMatchObject({
      upMinutes: 1440,
      unverifiedMinutes: 0,
      availabilityUusd: 4_800_000n,
    });
  });

  it('a long failure: the GPU fails at 10:00, paid for two hours of grace, fixed at 18:00 → 6 h unpaid', () => {
    const l = line(
      history([
        ['passing', h(-3)],
        ['failing', h(10)],
        ['passing', h(18)],
      ]),
      {
        usage: usageFromReports([
          // An hour of work while unverified is still paid: the work was done.
          { seq: 1, from: h(13), to: h(14), workloads: [{ gpus: 1, seconds: 3600 }] },
        ]),
      },
    );
    expect(l).toMatchObject({
      uptimeTier: 'full',
      upMinutes: 1440,
      unverifiedMinutes: 360,
      availabilityUusd: 3_600_000n,
      workloadGpuMinutes: 60,
      workloadUusd: 500_000n,
    });
    expect(l.paidGpuMinutes).toEqual({ 'nvidia/rtx4090/24Gi': 1080 });
  });

  it('a quick fix costs nothing: failing at 10:00 and passing again at 11:30 is within the grace', () => {
    const l = line(
      history([
        ['passing', h(-3)],
        ['failing', h(10)],
        ['passing', h(11, 30)],
      ]),
    );
    expect(l).toMatchObject({ unverifiedMinutes: 0, availabilityUusd: 4_800_000n });
  });

  it('approved at midnight and never audited: only the two hours of grace are paid', () => {
    expect(line(history([['never', h(0)]]))).toMatchObject({
      unverifiedMinutes: 1320,
      availabilityUusd: 400_000n,
    });
  });

  it('stale: the last pass was two days before, so nothing of the day is verified', () => {
    expect(line(history([['passing', h(-48)]]))).toMatchObject({
      upMinutes: 1440,
      unverifiedMinutes: 1440,
      availabilityUusd: 0n,
    });
  });

  it('pro rata: up 20 h (83 %), four of them unverified, pays the 16 verified up hours', () => {
    const l = line(
      history([
        ['passing', h(-3)],
        ['failing', h(4)],
        ['passing', h(10)],
      ]),
      { presence: [{ start: h(2), end: h(22) }] },
    );
    expect(l).toMatchObject({
      uptimeTier: 'pro-rata',
      upMinutes: 1200,
      unverifiedMinutes: 240,
      availabilityUusd: 3_200_000n,
    });
  });

  it('a minute verified at any moment counts: the grace ends at 10:00:30 after a failure at 08:00:30', () => {
    const l = line(
      history([
        ['passing', h(-3)],
        ['failing', h(8) + 30_000],
        ['passing', h(12)],
      ]),
    );
    // 10:01 … 11:59 are unverified: 119 minutes.
    expect(l.unverifiedMinutes).toBe(119);
  });

  it('a node approved before audits existed is verified until its first audit state', () => {
    expect(line({ intervals: [], firstStartedAt: null })).toMatchObject({ unverifiedMinutes: 0 });
    const l = line(history([['failing', h(12)]]));
    // Legacy time until noon, then two hours of grace: 14:00 … 24:00 unverified.
    expect(l.unverifiedMinutes).toBe(600);
  });

  it('JSON lines carry unverifiedMinutes beside the other minutes', () => {
    const json = lineJson(line(history([['never', h(0)]])));
    expect(Object.keys(json).slice(3, 8)).toEqual([
      'periodMinutes',
      'upMinutes',
      'creditedMinutes',
      'unverifiedMinutes',
      'workloadGpuMinutes',
    ]);
    expect(json.unverifiedMinutes).toBe(1320);
  });
});

// ---- properties -------------------------------------------------------------------------------

const t = fc.integer({ min: h(-60), max: h(30) });
const presence = fc.array(
  fc.tuple(t, fc.integer({ min: 0, max: 10 * HOUR })).map(([s, d]) => ({ start: s, end: s + d })),
  { maxLength: 12 },
);
const steps = fc
  .array(fc.tuple(fc.constantFrom('never' as const, 'passing' as const, 'failing' as const), t), {
    maxLength: 8,
  })
  .map((s) => [...s].sort((a, b) => a[1] - b[1]));
const usage = fc
  .array(fc.tuple(t, fc.integer({ min: 0, max: 1 })), { maxLength: 10 })
  .map((u) =>
    u.map(([from, gpus], seq) => ({ seq, from, to: from + 10 * MIN, workloads: [{ gpus, seconds: 300 }] })),
  );

describe('verified availability: properties', () => {
  it('never counts more unverified minutes than up minutes, never pays more than without audits, pays workload alike', () => {
    fc.assert(
      fc.property(presence, steps, usage, (p, s, u) => {
        const base = { presence: p, usage: usageFromReports(u) };
        const unaudited = line(undefined, base);
        const audited = line(history(s), base);
        expect(audited.unverifiedMinutes).toBeLessThanOrEqual(audited.upMinutes);
        expect(audited.availabilityUusd).toBeLessThanOrEqual(unaudited.availabilityUusd);
        expect(audited.workloadUusd).toBe(unaudited.workloadUusd);
        expect(audited.workloadGpuMinutes).toBe(unaudited.workloadGpuMinutes);
        expect(audited.uptimeTier).toBe(unaudited.uptimeTier);
      }),
      { numRuns: 300 },
    );
  });

  it('more verified time never pays less', () => {
    const extra = fc.array(
      fc.tuple(t, fc.integer({ min: 0, max: 12 * HOUR })).map(([s, d]) => ({ start: s, end: s + d })),
      { maxLength: 4 },
    );
    fc.assert(
      fc.property(presence, steps, extra, (p, s, more) => {
        const spans = verifiedSpans(history(s), period.start, h(25));
        const less = line(undefined, { presence: p, verified: spans });
        const moreLine = line(undefined, { presence: p, verified: [...spans, ...more] });
        expect(moreLine.availabilityUusd).toBeGreaterThanOrEqual(less.availabilityUusd);
        expect(moreLine.unverifiedMinutes).toBeLessThanOrEqual(less.unverifiedMinutes);
      }),
      { numRuns: 300 },
    );
  });

  it('a statement as of its lock is the same after any later audit: the hash does not move', () => {
    const lockedAt = h(24, 5);
    fc.assert(
      fc.property(
        presence,
        steps,
        fc.array(fc.constantFrom('passing' as const, 'failing' as const), { maxLength: 4 }),
        (p, s, later) => {
          const before = history(s.filter(([, at]) => at <= lockedAt));
          // Later audits end the open interval after the lock and add new ones.
          const afterSteps: [(typeof s)[number][0], number][] = [
            ...s.filter(([, at]) => at <= lockedAt),
            ...later.map((state, i): [typeof state, number] => [state, lockedAt + (i + 1) * HOUR]),
          ];
          const after = history(afterSteps);
          const hash = (a: AuditHistory) =>
            statementHash({
              periodId: period.periodId,
              start: '',
              end: '',
              status: 'locked',
              rateCardVersion: 1,
              lines: [lineJson(line(a, { presence: p }, lockedAt))],
              totals: {
                nodes: 1,
                availabilityUusd: '0',
                workloadUusd: '0',
                adjustmentsUusd: '0',
                totalUusd: '0',
                roundingResidual: { sixtiethsOfUusd: '0' },
              },
            });
          expect(hash(after)).toBe(hash(before));
        },
      ),
      { numRuns: 200 },
    );
  });
});
