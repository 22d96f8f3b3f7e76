import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PresenceTracker } from '../../enroll-server/control/presence-tracker.js';
import { openDatabase } from '../../enroll-server/core/sqlite/database.js';
import { createSqliteRepositories } from '../../enroll-server/sqlite-store.js';

const T0 = Date.parse('2026-11-02T00:00:00Z');
const MIN = 60_000;
const at = (minutes: number, seconds = 0) => T0 + minutes * MIN + seconds * 1000;

async function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'homenode-presence-'));
  const db = openDatabase(join(dir, 'p.db'));
  const repos = createSqliteRepositories(db);
  await repos.owners.create({ id: 'own_1', email: 'a@example.com', name: 'A', createdAt: T0 });
  db.prepare(
    `INSERT INTO nodes (id, owner_id, status, public_key, public_key_thumbprint, fingerprint, hardware, preflight, attributes, labels, agent_version, created_at, updated_at, enrolled_at)
     VALUES ('node_1', 'own_1', 'approved', '{}', 't1', 'f1', '{}', '[]', '[]', '{}', '1', ?, ?, ?)`,
  ).run(T0, T0, T0);
  let now = T0;
  let n = 0;
  const clock = { now: () => now, set: (t: number) => (now = t) };
  const tracker = (cacheMs = 0) =>
    new PresenceTracker({
      repo: repos.presence,
      now: clock.now,
      newId: () => `pi_${(n += 1)}`,
      enrolledAt: async () => T0,
      cacheMs,
    });
  return { db, repos, clock, tracker };
}

describe('PresenceTracker (injected clock)', () => {
  it('ends a bye at once and a silent drop at the last sign of life', async () => {
    const { repos, clock, tracker } = await setup();
    const t = tracker();
    t.connect('node_1', 's1', 'boot1', true);
    clock.set(at(10));
    t.seen('node_1');
    clock.set(at(12));
    t.disconnect('node_1', 's1', 'disconnected', false); // silent: ends at 10:00
    await t.flush();
    clock.set(at(20));
    t.connect('node_1', 's2', 'boot1', true);
    clock.set(at(25, 30));
    t.disconnect('node_1', 's2', 'bye', true); // bye: ends now
    await t.flush();
    const stored = (await repos.presence.forNode('node_1', T0)).map((i) => [
      i.startedAt,
      i.endedAt,
      i.endReason,
    ]);
    expect(stored).toEqual([
      [at(0), at(10), 'disconnected'],
      [at(20), at(25, 30), 'bye'],
    ]);
    expect((await t.view('node_1', at(60))).uptime.upSeconds).toBe(600 + 330);
  });

  it('writes nothing until flushed, and nothing for a pending node', async () => {
    const { repos, clock, tracker } = await setup();
    const t = tracker();
    t.connect('node_1', 's1', null, false);
    clock.set(at(5));
    t.heartbeat('node_1', {
      load1: 1,
      load5: 1,
      load15: 1,
      memTotalBytes: 1,
      memUsedBytes: 1,
      uptimeSeconds: 1,
      gpus: [],
    });
    expect(await t.flush()).toBe(0);
    expect(await t.view('node_1', at(5))).toMatchObject({
      online: true,
      metrics: { load1: 1 },
      uptime: { upSeconds: 0 },
    });
    t.setCountable('node_1', true); // approved at 5:00
    clock.set(at(8));
    t.seen('node_1');
    expect(await repos.presence.forNode('node_1', T0)).toHaveLength(0);
    expect(await t.flush()).toBe(1);
    expect((await repos.presence.forNode('node_1', T0))[0]).toMatchObject({
      startedAt: at(5),
      lastSeenAt: at(8),
      endedAt: null,
    });
  });

  it('after a server crash, closes open intervals at their last written sign of life', async () => {
    const { repos, clock, tracker } = await setup();
    const t = tracker();
    t.connect('node_1', 's1', null, true);
    clock.set(at(3));
    t.seen('node_1');
    await t.flush(); // last batch before the crash
    clock.set(at(4));
    t.seen('node_1'); // never written: lost with the process
    // A new process starts on the same database.
    expect(await repos.presence.closeAllOpen('server-restart')).toBe(1);
    expect((await repos.presence.forNode('node_1', T0))[0]).toMatchObject({
      startedAt: at(0),
      endedAt: at(3),
      endReason: 'server-restart',
    });
  });

  it('counts the live session up to now even while the past is cached (50 s online shows 50 s)', async () => {
    const { clock, tracker } = await setup();
    const t = tracker(60_000);
    clock.set(at(10));
    t.connect('node_1', 's1', null, true);
    // A list shows the node at once (the past is read and cached)…
    expect((await t.view('node_1', at(10, 1))).uptime.upSeconds).toBe(1);
    // …and its detail 50 s later counts those 50 s, within the cache's minute.
    clock.set(at(10, 50));
    expect((await t.view('node_1', at(10, 50))).uptime).toMatchObject({ upSeconds: 50 });
    expect((await t.view('node_1', at(10, 50))).uptime.last24h).toBeGreaterThan(0);
    // Once it drops, the interval it had is part of the past at once.
    t.disconnect('node_1', 's1', 'bye', true);
    expect((await t.view('node_1', at(10, 55))).uptime.upSeconds).toBe(50);
  });

  it('replacing a session closes the old interval cleanly', async () => {
    const { repos, clock, tracker } = await setup();
    const t = tracker();
    t.connect('node_1', 's1', null, true);
    clock.set(at(2));
    t.connect('node_1', 's2', null, true);
    clock.set(at(3));
    await t.closeAll('server-shutdown');
    expect(
      (await repos.presence.forNode('node_1', T0)).map((i) => [i.startedAt, i.endedAt, i.endReason]),
    ).toEqual([
      [at(0), at(2), 'replaced'],
      [at(2), at(3), 'server-shutdown'],
    ]);
    expect(t.isOnline('node_1')).toBe(false);
  });
});
