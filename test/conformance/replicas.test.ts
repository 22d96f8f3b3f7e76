/** The replica registry and node session claims on both engines. */
import { afterEach, describe, expect, it } from 'vitest';
import { ENGINES, type OpenEngine, openEngine } from '../helpers/engines.js';
import { MINUTE, T0, seedNode } from './fixtures.js';

const LAPSE = 30_000;

describe.each(ENGINES)('replica repository on %s', (engine) => {
  const open: OpenEngine[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((e) => e.close()));
  });
  async function setup() {
    const e = await openEngine(engine);
    open.push(e);
    return e.repos;
  }

  it('registers replicas, keeps them live while they beat, stops them cleanly', async () => {
    const repos = await setup();
    await repos.replicas.register({ id: 'rep_a', url: 'http://10.0.0.1:8080', now: T0 });
    await repos.replicas.register({ id: 'rep_b', url: null, now: T0 + 1 });
    expect((await repos.replicas.live(T0 + 10_000, LAPSE)).map((r) => r.id)).toEqual(['rep_a', 'rep_b']);
    expect(await repos.replicas.heartbeat('rep_a', T0 + 40_000)).toBe(true);
    expect((await repos.replicas.live(T0 + 40_000, LAPSE)).map((r) => r.id)).toEqual(['rep_a']);
    expect(await repos.replicas.get('rep_a')).toEqual({
      id: 'rep_a',
      url: 'http://10.0.0.1:8080',
      startedAt: T0,
      heartbeatAt: T0 + 40_000,
      stoppedAt: null,
      stopReason: null,
    });
    await repos.replicas.stop('rep_a', T0 + 41_000, 'shutdown');
    expect(await repos.replicas.heartbeat('rep_a', T0 + 42_000)).toBe(false);
    expect(await repos.replicas.get('rep_a')).toMatchObject({
      stoppedAt: T0 + 41_000,
      stopReason: 'shutdown',
    });
    expect(await repos.replicas.live(T0 + 42_000, LAPSE)).toEqual([]);
    // Registering again (after being declared dead) makes it live again.
    await repos.replicas.register({ id: 'rep_a', url: 'http://10.0.0.1:8080', now: T0 + 43_000 });
    expect((await repos.replicas.live(T0 + 43_000, LAPSE)).map((r) => r.id)).toEqual(['rep_a']);
  });

  it('claims: a newer session takes a node over and says from whom; an older one does not; released only by its holder', async () => {
    const repos = await setup();
    await seedNode(repos, 1);
    await seedNode(repos, 2);
    await repos.replicas.register({ id: 'rep_a', url: 'http://a', now: T0 });
    await repos.replicas.register({ id: 'rep_b', url: 'http://b', now: T0 });
    const claim = (nodeId: string, sessionId: string, connectedAt: number, shellEnabled = true) => ({
      nodeId,
      sessionId,
      connectedAt,
      shellEnabled,
    });
    expect(
      await repos.replicas.claim('rep_a', [
        claim('node_1', 'ses_a1', T0 + 1),
        claim('node_2', 'ses_a2', T0 + 1),
      ]),
    ).toEqual([]);
    expect(await repos.replicas.session('node_1', T0 + 2, LAPSE)).toEqual({
      nodeId: 'node_1',
      replicaId: 'rep_a',
      sessionId: 'ses_a1',
      connectedAt: T0 + 1,
      shellEnabled: true,
    });
    const taken = await repos.replicas.claim('rep_b', [claim('node_1', 'ses_b1', T0 + 5, false)]);
    expect(taken).toEqual([
      { nodeId: 'node_1', replicaId: 'rep_a', sessionId: 'ses_a1', connectedAt: T0 + 1, shellEnabled: true },
    ]);
    // A's late claim of an older session does not win back the node.
    expect(await repos.replicas.claim('rep_a', [claim('node_1', 'ses_a0', T0 + 3)])).toEqual([]);
    expect((await repos.replicas.session('node_1', T0 + 6, LAPSE))?.sessionId).toBe('ses_b1');
    // A cannot release what B holds; B releases its own session only.
    expect(await repos.replicas.release('rep_a', [{ nodeId: 'node_1', sessionId: 'ses_b1' }])).toBe(0);
    expect(await repos.replicas.release('rep_b', [{ nodeId: 'node_1', sessionId: 'ses_old' }])).toBe(0);
    expect(await repos.replicas.heldElsewhere('rep_a', T0 + 6, LAPSE)).toEqual(['node_1']);
    expect(await repos.replicas.heldElsewhere('rep_b', T0 + 6, LAPSE)).toEqual(['node_2']);
    expect(await repos.replicas.release('rep_b', [{ nodeId: 'node_1', sessionId: 'ses_b1' }])).toBe(1);
    expect(await repos.replicas.session('node_1', T0 + 7, LAPSE)).toBeUndefined();
    // A claim of a replica that is no longer live is not where the node is.
    expect(await repos.replicas.session('node_2', T0 + LAPSE + 1, LAPSE)).toBeUndefined();
    expect(await repos.replicas.heldElsewhere('rep_b', T0 + LAPSE + 1, LAPSE)).toEqual([]);
  });

  it('reap: a lapsed replica is declared dead once, its open presence ends at the last sign of life, its claims go', async () => {
    const repos = await setup();
    await seedNode(repos, 1);
    await seedNode(repos, 2);
    await seedNode(repos, 3);
    await repos.replicas.register({ id: 'rep_dead', url: null, now: T0 });
    await repos.replicas.register({ id: 'rep_live', url: null, now: T0 });
    await repos.replicas.claim('rep_dead', [
      { nodeId: 'node_1', sessionId: 's1', connectedAt: T0, shellEnabled: false },
    ]);
    await repos.replicas.claim('rep_live', [
      { nodeId: 'node_2', sessionId: 's2', connectedAt: T0, shellEnabled: false },
    ]);
    const base = { endedAt: null, endReason: null, bootId: null, startedAt: T0 };
    await repos.presence.write([
      { ...base, id: 'pi_dead', nodeId: 'node_1', lastSeenAt: T0 + 3 * MINUTE, replicaId: 'rep_dead' },
      { ...base, id: 'pi_live', nodeId: 'node_2', lastSeenAt: T0 + 3 * MINUTE, replicaId: 'rep_live' },
      { ...base, id: 'pi_old', nodeId: 'node_3', lastSeenAt: T0 + MINUTE },
      {
        ...base,
        id: 'pi_done',
        nodeId: 'node_1',
        lastSeenAt: T0,
        endedAt: T0,
        endReason: 'bye',
        replicaId: 'rep_dead',
      },
    ]);
    const now = T0 + 10 * MINUTE;
    await repos.replicas.heartbeat('rep_live', now);
    expect(await repos.replicas.reap('rep_live', now, LAPSE, 'replica-lapsed')).toEqual({
      replicas: ['rep_dead'],
      intervals: 2,
      sessions: 1,
    });
    expect(await repos.replicas.reap('rep_live', now + 1, LAPSE, 'replica-lapsed')).toEqual({
      replicas: [],
      intervals: 0,
      sessions: 0,
    });
    const ends = async (nodeId: string) =>
      (await repos.presence.forNode(nodeId, 0))
        .map((i) => [i.id, i.endedAt, i.endReason])
        .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    expect(await ends('node_1')).toEqual([
      ['pi_dead', T0 + 3 * MINUTE, 'replica-lapsed'],
      ['pi_done', T0, 'bye'],
    ]);
    expect(await ends('node_2')).toEqual([['pi_live', null, null]]);
    expect(await ends('node_3')).toEqual([['pi_old', T0 + MINUTE, 'replica-lapsed']]);
    expect(await repos.replicas.session('node_1', now, LAPSE)).toBeUndefined();
    expect((await repos.replicas.session('node_2', now, LAPSE))?.replicaId).toBe('rep_live');
    expect(await repos.replicas.get('rep_dead')).toMatchObject({
      stoppedAt: now,
      stopReason: 'replica-lapsed',
    });
    // The dead replica learns it at its next heartbeat.
    expect(await repos.replicas.heartbeat('rep_dead', now + 2)).toBe(false);
  });
});
