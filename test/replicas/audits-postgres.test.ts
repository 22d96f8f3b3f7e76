/**
 * Continuous audits with the server on PostgreSQL: the join audit, the daily one, the retry
 * ladder after a failure and the owner's events, as `test/integration/audits-scheduler.test.ts`
 * checks them on SQLite; the fleet-wide cap across a restart on the same database.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HOUR, MIN, auditSetup } from '../integration/audit-sim-support.js';
import { testDatabase } from '../helpers/engines.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function setup(options: Parameters<typeof auditSetup>[0] = {}) {
  const db = await testDatabase();
  cleanup.push(() => db.drop());
  const s = await auditSetup({ ...options, databaseUrl: db.url });
  cleanup.push(() => s.server.close());
  return s;
}

describe('audits on PostgreSQL', () => {
  it('after the join, then daily; after a failure on the ladder (30 min, 1 h), then daily again', async () => {
    const s = await setup();
    const n = await s.node({ join: true });
    await s.tick();
    const join = await n.answer('pass');
    expect((await s.settled(n.nodeId, join.auditId)).status).toBe('passed');
    s.clock.advance(24 * HOUR - MIN);
    expect(await s.tick()).toMatchObject({ queued: 0, started: 0 });
    s.clock.advance(MIN);
    expect(await s.tick()).toMatchObject({ queued: 1, started: 1 });
    const routine = await n.answer('fail');
    const failed = await s.settled(n.nodeId, routine.auditId);
    expect([failed.trigger, failed.status]).toEqual(['schedule', 'failed']);
    for (const wait of [30, 60]) {
      s.clock.advance(wait * MIN - 1000);
      expect(await s.tick()).toMatchObject({ started: 0 });
      s.clock.advance(1000);
      expect(await s.tick()).toMatchObject({ started: 1 });
      const retry = await n.answer(wait === 30 ? 'fail' : 'pass');
      expect((await s.settled(n.nodeId, retry.auditId)).trigger).toBe('retry');
    }
    expect(await s.state(n.nodeId)).toMatchObject({ state: 'passing' });
    expect(Date.parse((await s.state(n.nodeId)).nextAuditAt!)).toBe(s.clock.now() + 24 * HOUR);
    expect(s.events.map((e) => e.type)).toEqual(['audit.failed', 'audit.passed']);
  });

  it('never runs more than maxConcurrent audits; a finished one frees its slot', async () => {
    const s = await setup({ policy: { audit: { maxConcurrent: 2 } } });
    const nodes = [];
    for (let i = 0; i < 4; i += 1) nodes.push(await s.node({ join: true }));
    expect(await s.tick()).toMatchObject({ queued: 4, started: 2 });
    expect(await s.running()).toBe(2);
    expect(await s.tick()).toMatchObject({ started: 0 });
    const lists = await Promise.all(nodes.map(async (n) => (await s.audits(n.nodeId)).audits));
    const first = lists.flat().find((a) => a.status === 'running')!;
    const holder = nodes.find((n) => n.nodeId === first.nodeId)!;
    await holder.answer('pass');
    await s.settled(holder.nodeId, first.id);
    expect(await s.tick()).toMatchObject({ started: 1 });
    expect(await s.running()).toBe(2);
  });
});
