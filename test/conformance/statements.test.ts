/**
 * The same events fed to SQLite and to PostgreSQL give the same statement, byte for byte, hash
 * included: owners and nodes whose ids sort differently by locale, GPUs that change mid-week,
 * presence with gaps and edges, usage reports that cross up-time edges or claim too much,
 * adjustments beyond 2^53 micro-dollars, declared and detected outages.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createPayoutService } from '../../enroll-server/payouts/payout-service.js';
import type { StatementJson } from '../../enroll-server/payouts/statement-json.js';
import type { Repositories } from '../../enroll-server/repositories.js';
import { gpuClasses } from '../../protocol/attributes.js';
import { ENGINES, type OpenEngine, openEngine } from '../helpers/engines.js';
import { HOUR, MINUTE, T0, enrollmentFields, hardware } from './fixtures.js';

const WEEK = 7 * 24 * HOUR;
const PERIOD = { id: 'per_week', start: T0, end: T0 + WEEK };
const reviewer = { tokenId: 'tok_reviewer', role: 'reviewer' as const, ownerId: null };

/** A small deterministic generator (mulberry32), so both engines get the very same events. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Owner ids that sort differently bytewise and by a locale: upper case, "_", digits, lower case. */
const OWNERS = ['own_Z', 'own_a', 'own__x', 'own_B', 'own_9'];

async function feed(repos: Repositories): Promise<void> {
  const rnd = random(18);
  const pick = (n: number) => Math.floor(rnd() * n);
  for (const [i, id] of OWNERS.entries())
    await repos.owners.create({ id, email: `${id}@example.com`, name: `Owner ${i}`, createdAt: T0 - WEEK });
  const classKeys = new Set<string>();
  for (let n = 0; n < 24; n += 1) {
    const id = `node_${String.fromCharCode(65 + (n % 26))}${n % 3 === 0 ? '_' : ''}${n}`;
    const gpus = 1 + (n % 2);
    const hw = hardware(gpus, n % 4 === 3 ? 'a100' : 'rtx4090');
    for (const key of gpuClasses(hw).keys()) classKeys.add(key);
    const enrolledAt = T0 - 2 * 24 * HOUR + n * MINUTE;
    await repos.nodes.create(
      id,
      OWNERS[n % OWNERS.length]!,
      `fp-${n}`,
      enrollmentFields(n, { hardware: hw }),
      enrolledAt,
    );
    if (n % 7 !== 6)
      await repos.nodes.transition(id, 'pending', 'approved', null, 'tok_ops', enrolledAt + HOUR);
    // Presence: sessions of a few hours with gaps, the first one reaching back before the period.
    let at = T0 - 3 * HOUR + pick(120) * MINUTE;
    const rows = [];
    for (let s = 0; at < T0 + WEEK + 3 * HOUR; s += 1) {
      const length = (30 + pick(600)) * MINUTE + pick(59_000);
      rows.push({
        id: `pi_${id}_${s}`,
        nodeId: id,
        startedAt: at,
        lastSeenAt: at + length,
        endedAt: at + length,
        endReason: s % 5 === 4 ? 'disconnected' : 'bye',
        bootId: null,
      });
      at += length + (pick(4) === 0 ? pick(180) * MINUTE : pick(3) * MINUTE);
    }
    await repos.presence.write(rows);
    // Usage: 5-minute windows back to back with gaps, never overlapping; some claim more than the window.
    let from = T0 - HOUR + pick(30) * MINUTE;
    for (let seq = 1; from < T0 + WEEK + HOUR && seq <= 400; seq += 1) {
      const to = from + 5 * MINUTE;
      const seconds = pick(5) === 0 ? 600 : pick(301);
      await repos.usage.store(
        {
          nodeId: id,
          seq,
          fromAt: from,
          toAt: to,
          workloads: [{ leaseId: `lease-${n}`, gpus, seconds }],
          receivedAt: to + 2000,
        },
        `jws-${id}-${seq}`,
      );
      from = to + (pick(3) === 0 ? pick(600) * MINUTE : 0);
    }
    // The GPUs change half-way through the week for some nodes.
    if (n % 5 === 1)
      await repos.nodes.updateHardware(
        id,
        { hardware: hardware(gpus + 1), attributes: [], labels: {} },
        T0 + WEEK / 2 + n * 1000,
        'append',
      );
  }
  const rates = Object.fromEntries(
    [...classKeys, 'cpu-only'].map((key, i) => [
      key,
      {
        availabilityUusdPerGpuHour: String(90_000 + i * 7_001),
        workloadUusdPerGpuHour: String(310_000 + i * 13_337),
      },
    ]),
  );
  await repos.payouts.addRateCard({
    effectiveFrom: T0 - WEEK,
    rates,
    note: 'v1',
    createdAt: T0 - WEEK,
    createdBy: null,
  });
  await repos.payouts.addAdjustment({
    id: 'adj_1',
    nodeId: 'node_B1',
    ownerId: 'own_a',
    amountUusd: '9007199254740993',
    reason: 'goodwill',
    actor: 'tok_reviewer',
    createdAt: T0 + HOUR,
  });
  await repos.payouts.addAdjustment({
    id: 'adj_2',
    nodeId: 'node_C2',
    ownerId: 'own__x',
    amountUusd: '-1234567',
    reason: 'double payment last week',
    actor: 'tok_reviewer',
    createdAt: T0 + 2 * HOUR,
  });
  await repos.payouts.addOutage({
    id: 'out_1',
    start: T0 + 30 * HOUR,
    end: T0 + 32 * HOUR,
    reason: 'provider maintenance',
    createdBy: 'tok_ops',
    createdAt: T0 + 29 * HOUR,
  });
  const run1 = await repos.payouts.startRun(T0 - WEEK);
  await repos.payouts.alive(run1, T0 + 50 * HOUR);
  const run2 = await repos.payouts.startRun(T0 + 50 * HOUR + 20 * MINUTE);
  await repos.payouts.alive(run2, T0 + WEEK + HOUR);
  await repos.payouts.createPeriod(PERIOD.id, PERIOD.start, PERIOD.end, T0 - HOUR);
}

describe('statements on both engines', () => {
  const open: OpenEngine[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((e) => e.close()));
  });

  it('computes, locks and verifies the same statement, hash included, from the same events', async () => {
    const results: Record<string, { computed: StatementJson; locked: StatementJson; verified: boolean }> = {};
    for (const name of ENGINES) {
      const engine = await openEngine(name);
      open.push(engine);
      await feed(engine.repos);
      const payouts = createPayoutService({
        repos: engine.repos,
        now: () => T0 + WEEK + 2 * HOUR,
        flushPresence: async () => {},
      });
      const computed = await payouts.compute(reviewer, PERIOD.id);
      const locked = await payouts.lock(reviewer, PERIOD.id);
      const verified = (await payouts.verify(PERIOD.id)).matches;
      results[name] = { computed, locked, verified };
    }
    const sqlite = results.sqlite!;
    const postgres = results.postgres!;
    expect(sqlite.locked.lines.length).toBeGreaterThan(15);
    expect(sqlite.locked.lines.some((l) => l.workloadGpuMinutes > 0)).toBe(true);
    expect(sqlite.locked.lines.some((l) => l.adjustmentsUusd === '9007199254740993')).toBe(true);
    // Lines are in owner then node order, bytewise, on both.
    expect(postgres.locked.lines.map((l) => l.ownerId)).toEqual(sqlite.locked.lines.map((l) => l.ownerId));
    expect(JSON.stringify(postgres.computed)).toBe(JSON.stringify(sqlite.computed));
    expect(JSON.stringify(postgres.locked)).toBe(JSON.stringify(sqlite.locked));
    expect(postgres.locked.hash).toBe(sqlite.locked.hash);
    expect(sqlite.verified && postgres.verified).toBe(true);
  });
});
