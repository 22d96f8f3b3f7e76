/** Presence intervals, usage reports, the overlay, commands and shell sessions on both engines. */
import { afterEach, describe, expect, it } from 'vitest';
import type { PresenceWrite } from '../../enroll-server/control/presence-repository.js';
import { ENGINES, type OpenEngine, openEngine } from '../helpers/engines.js';
import { MINUTE, T0, ids, seedNode } from './fixtures.js';

const interval = (id: string, nodeId: string, overrides: Partial<PresenceWrite> = {}): PresenceWrite => ({
  id,
  nodeId,
  startedAt: T0,
  lastSeenAt: T0,
  endedAt: null,
  endReason: null,
  bootId: null,
  ...overrides,
});

describe.each(ENGINES)('control repositories on %s', (engine) => {
  const open: OpenEngine[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((e) => e.close()));
  });
  async function setup() {
    const e = await openEngine(engine);
    open.push(e);
    return e.repos;
  }

  it('presence: a batch upserts; last sign of life only grows; an end once written stays', async () => {
    const repos = await setup();
    await seedNode(repos, 1);
    await seedNode(repos, 2);
    await repos.presence.write([
      interval('pi_a', 'node_1', { lastSeenAt: T0 + 10 * MINUTE }),
      interval('pi_b', 'node_2', { bootId: 'boot-1' }),
    ]);
    await repos.presence.write([
      interval('pi_a', 'node_1', { lastSeenAt: T0 + 5 * MINUTE }),
      interval('pi_b', 'node_2', { lastSeenAt: T0 + 3 * MINUTE, endedAt: T0 + 3 * MINUTE, endReason: 'bye' }),
    ]);
    await repos.presence.write([
      interval('pi_b', 'node_2', {
        lastSeenAt: T0 + 4 * MINUTE,
        endedAt: T0 + 9 * MINUTE,
        endReason: 'late',
      }),
    ]);
    await repos.presence.write([]);
    expect(await repos.presence.forNode('node_1', 0)).toEqual([
      {
        id: 'pi_a',
        nodeId: 'node_1',
        startedAt: T0,
        lastSeenAt: T0 + 10 * MINUTE,
        endedAt: null,
        endReason: null,
      },
    ]);
    expect(await repos.presence.forNode('node_2', 0)).toEqual([
      {
        id: 'pi_b',
        nodeId: 'node_2',
        startedAt: T0,
        lastSeenAt: T0 + 4 * MINUTE,
        endedAt: T0 + 3 * MINUTE,
        endReason: 'bye',
      },
    ]);
    expect(await repos.presence.lastSeenAt('node_1')).toBe(T0 + 10 * MINUTE);
    expect(await repos.presence.lastSeenAt('node_2')).toBe(T0 + 3 * MINUTE);
    expect(await repos.presence.lastSeenAt('node_9')).toBeNull();
  });

  it('presence: listed oldest first from a time on; after a crash every open interval ends at its last sign of life', async () => {
    const repos = await setup();
    await seedNode(repos, 1);
    await repos.presence.write([
      interval('pi_2', 'node_1', { startedAt: T0 + 60 * MINUTE, lastSeenAt: T0 + 70 * MINUTE }),
      interval('pi_1', 'node_1', {
        startedAt: T0,
        lastSeenAt: T0 + 20 * MINUTE,
        endedAt: T0 + 30 * MINUTE,
        endReason: 'bye',
      }),
    ]);
    expect(ids(await repos.presence.forNode('node_1', 0))).toEqual(['pi_1', 'pi_2']);
    expect(ids(await repos.presence.forNode('node_1', T0 + 31 * MINUTE))).toEqual(['pi_2']);
    expect(await repos.presence.closeAllOpen('server-restart')).toBe(1);
    expect(await repos.presence.closeAllOpen('server-restart')).toBe(0);
    expect((await repos.presence.forNode('node_1', 0))[1]).toMatchObject({
      endedAt: T0 + 70 * MINUTE,
      endReason: 'server-restart',
    });
  });

  it('usage: a report is stored once per (node, seq), listed by seq', async () => {
    const repos = await setup();
    await seedNode(repos, 1);
    const report = (seq: number, fromAt: number) => ({
      nodeId: 'node_1',
      seq,
      fromAt,
      toAt: fromAt + 5 * MINUTE,
      workloads: [{ leaseId: `lease-${seq}`, gpus: 1, seconds: 300 }],
      receivedAt: fromAt + 6 * MINUTE,
    });
    expect(await repos.usage.store(report(2, T0 + 5 * MINUTE), 'jws-2')).toEqual({ outcome: 'stored' });
    expect(await repos.usage.store(report(1, T0), 'jws-1')).toEqual({ outcome: 'stored' });
    expect(await repos.usage.store(report(1, T0), 'jws-1-again')).toEqual({ outcome: 'duplicate' });
    expect(await repos.usage.forNode('node_1')).toEqual([report(1, T0), report(2, T0 + 5 * MINUTE)]);
  });

  it('usage: a window overlapping a stored one is refused, naming it; touching windows are fine', async () => {
    const repos = await setup();
    await seedNode(repos, 1);
    const report = (seq: number, fromAt: number, minutes = 5) => ({
      nodeId: 'node_1',
      seq,
      fromAt,
      toAt: fromAt + minutes * MINUTE,
      workloads: [{ leaseId: `lease-${seq}`, gpus: 1, seconds: 60 }],
      receivedAt: fromAt + 60 * MINUTE,
    });
    expect(await repos.usage.store(report(1, T0 + 10 * MINUTE), 'a')).toEqual({ outcome: 'stored' });
    // Ends inside seq 1, starts inside it, covers it: each refused and not written.
    for (const [seq, from, minutes] of [
      [2, T0 + 6 * MINUTE, 5],
      [3, T0 + 14 * MINUTE, 5],
      [4, T0, 60],
    ] as const)
      expect(await repos.usage.store(report(seq, from, minutes), 'b')).toEqual({
        outcome: 'overlap',
        seq: 1,
        fromAt: T0 + 10 * MINUTE,
        toAt: T0 + 15 * MINUTE,
      });
    expect(await repos.usage.store(report(5, T0 + 15 * MINUTE), 'c')).toEqual({ outcome: 'stored' });
    expect(await repos.usage.store(report(6, T0 + 5 * MINUTE), 'd')).toEqual({ outcome: 'stored' });
    expect((await repos.usage.forNode('node_1')).map((r) => r.seq)).toEqual([1, 5, 6]);
  });

  it('usage: overlapping reports sent at once through two connections: exactly one is stored', async () => {
    const e = await openEngine(engine);
    open.push(e);
    const other = await e.openAnother();
    await seedNode(e.repos, 1);
    for (let round = 0; round < 5; round += 1) {
      const at = T0 + round * 20 * MINUTE;
      const report = (seq: number, fromAt: number) => ({
        nodeId: 'node_1',
        seq,
        fromAt,
        toAt: fromAt + 10 * MINUTE,
        workloads: [{ leaseId: 'l', gpus: 1, seconds: 60 }],
        receivedAt: at + 60 * MINUTE,
      });
      const outcomes = await Promise.all([
        e.repos.usage.store(report(round * 2 + 1, at), 'a'),
        other.repos.usage.store(report(round * 2 + 2, at + 5 * MINUTE), 'b'),
      ]);
      expect(outcomes.map((o) => o.outcome).sort()).toEqual(['overlap', 'stored']);
    }
    expect(await e.repos.usage.forNode('node_1')).toHaveLength(5);
  });

  it('replay: a jti is good once per node, also through another connection; prune forgets expired ones', async () => {
    const e = await openEngine(engine);
    open.push(e);
    const other = await e.openAnother();
    const tries = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        (i % 2 ? other : e.store).repos.replay.use('node_1', 'jti-1', T0 + 300_000),
      ),
    );
    expect(tries.filter(Boolean)).toHaveLength(1);
    expect(await other.repos.replay.use('node_1', 'jti-1', T0 + 300_000)).toBe(false);
    expect(await e.repos.replay.use('node_2', 'jti-1', T0 + 300_000)).toBe(true);
    expect(await e.repos.replay.use('node_1', 'jti-2', T0 + 100_000)).toBe(true);
    expect(await other.repos.replay.prune(T0 + 100_000)).toBe(1);
    expect(await e.repos.replay.use('node_1', 'jti-2', T0 + 400_000)).toBe(true);
    expect(await e.repos.replay.use('node_1', 'jti-1', T0 + 300_000)).toBe(false);
  });

  it('network: slots from 2 up, one per node, kept; no two nodes share a slot even when they race', async () => {
    const repos = await setup();
    for (let i = 1; i <= 8; i += 1) await seedNode(repos, i);
    const first = await repos.network.ensure('node_1', T0);
    expect(first).toEqual({ nodeId: 'node_1', overlayIndex: 2, wireguardPublicKey: null, joinedAt: null });
    expect(await repos.network.ensure('node_1', T0 + 1)).toEqual(first);
    const raced = await Promise.all(
      [2, 3, 4, 5, 6, 7, 8, 2, 3].map((i) => repos.network.ensure(`node_${i}`, T0)),
    );
    const byNode = new Map(raced.map((n) => [n.nodeId, n.overlayIndex]));
    expect(byNode.size).toBe(7);
    expect(new Set(byNode.values()).size).toBe(7);
    expect([...byNode.values()].every((i) => i > 2)).toBe(true);
    await repos.network.setJoined('node_1', 'wgKEYwgKEYwgKEYwgKEYwgKEYwgKEYwgKEYwgKEYwg0=', T0 + 5);
    await repos.nodes.transition('node_1', 'pending', 'approved', null, 'tok', T0 + 6);
    const peers = await repos.network.peers();
    expect(peers[0]).toEqual({
      nodeId: 'node_1',
      overlayIndex: 2,
      wireguardPublicKey: 'wgKEYwgKEYwgKEYwgKEYwgKEYwgKEYwgKEYwgKEYwg0=',
      joinedAt: T0 + 5,
      status: 'approved',
    });
    expect(peers.map((p) => p.overlayIndex)).toEqual(
      [...peers.map((p) => p.overlayIndex)].sort((a, b) => a - b),
    );
  });

  it('commands: a result is recorded once; listed newest first; shell sessions closed once', async () => {
    const repos = await setup();
    await seedNode(repos, 1);
    await repos.commands.create({
      id: 'cmd_1',
      nodeId: 'node_1',
      name: 'cordon',
      args: {},
      requestedBy: 'tok',
      requestedAt: T0,
    });
    await repos.commands.create({
      id: 'cmd_2',
      nodeId: 'node_1',
      name: 'drain',
      args: { timeoutSeconds: 60, force: false },
      requestedBy: null,
      requestedAt: T0 + 1,
    });
    await repos.commands.finish('cmd_1', T0 + 5, true, 'node cordoned', null);
    await repos.commands.finish('cmd_1', T0 + 6, false, null, 'late duplicate');
    await repos.commands.finish('cmd_2', T0 + 7, false, null, 'The node disconnected before answering.');
    expect(await repos.commands.get('cmd_1')).toEqual({
      id: 'cmd_1',
      nodeId: 'node_1',
      name: 'cordon',
      args: {},
      requestedBy: 'tok',
      requestedAt: T0,
      finishedAt: T0 + 5,
      ok: true,
      output: 'node cordoned',
      error: null,
    });
    expect(await repos.commands.get('cmd_2')).toMatchObject({
      args: { timeoutSeconds: 60, force: false },
      ok: false,
    });
    expect(await repos.commands.get('cmd_9')).toBeUndefined();
    expect(ids(await repos.commands.forNode('node_1', 10))).toEqual(['cmd_2', 'cmd_1']);
    expect(ids(await repos.commands.forNode('node_1', 1))).toEqual(['cmd_2']);

    await repos.shellSessions.open({
      id: 'sh_1',
      nodeId: 'node_1',
      openedBy: 'tok',
      openedAt: T0,
      recordingPath: '/r/1.cast',
    });
    await repos.shellSessions.open({
      id: 'sh_2',
      nodeId: 'node_1',
      openedBy: 'tok',
      openedAt: T0 + 1,
      recordingPath: '/r/2.cast',
    });
    await repos.shellSessions.close('sh_1', {
      at: T0 + 9,
      reason: 'Closed by the operator.',
      bytesOut: 1234,
      recordedBytes: 1000,
      recordingTruncated: true,
    });
    await repos.shellSessions.close('sh_1', {
      at: T0 + 10,
      reason: 'again',
      bytesOut: 9,
      recordedBytes: 9,
      recordingTruncated: false,
    });
    expect(await repos.shellSessions.recordedBytesSince('node_1', T0)).toBe(1000);
    expect(await repos.shellSessions.recordedBytesSince('node_1', T0 + 1)).toBe(0);
    expect(await repos.shellSessions.recordedBytesSince('node_2', T0)).toBe(0);
    expect(await repos.shellSessions.get('sh_1')).toMatchObject({ closedAt: T0 + 9, recordedBytes: 1000 });
    expect(ids(await repos.shellSessions.forNode('node_1', 1, 1))).toEqual(['sh_1']);
    expect(await repos.shellSessions.forNode('node_1', 10, 0)).toEqual([
      {
        id: 'sh_2',
        nodeId: 'node_1',
        openedBy: 'tok',
        openedAt: T0 + 1,
        closedAt: null,
        closeReason: null,
        recordingPath: '/r/2.cast',
        bytesOut: 0,
        recordedBytes: 0,
        recordingTruncated: false,
      },
      {
        id: 'sh_1',
        nodeId: 'node_1',
        openedBy: 'tok',
        openedAt: T0,
        closedAt: T0 + 9,
        closeReason: 'Closed by the operator.',
        recordingPath: '/r/1.cast',
        bytesOut: 1234,
        recordedBytes: 1000,
        recordingTruncated: true,
      },
    ]);
  });

  it('activity log: newest first, filtered by target and action, paged by id', async () => {
    const repos = await setup();
    const actor = { type: 'token' as const, id: 'tok_1', role: 'ops' };
    await repos.activity.record(
      T0,
      actor,
      'node.approved',
      { type: 'node', id: 'node_1' },
      { from: 'pending' },
    );
    await repos.activity.record(T0 + 1, { type: 'system', id: null }, 'server.started');
    await repos.activity.record(
      T0 + 2,
      actor,
      'node.revoked',
      { type: 'node', id: 'node_1' },
      { reason: 'gone' },
    );
    const all = await repos.activity.list({ limit: 10 });
    expect(all.map((e) => e.action)).toEqual(['node.revoked', 'server.started', 'node.approved']);
    expect(all[2]).toEqual({
      id: all[2]!.id,
      at: T0,
      actor: { type: 'token', id: 'tok_1', role: 'ops' },
      action: 'node.approved',
      targetType: 'node',
      targetId: 'node_1',
      details: { from: 'pending' },
    });
    expect(all[1]).toMatchObject({
      actor: { type: 'system', id: null, role: null },
      targetType: null,
      details: null,
    });
    expect((await repos.activity.list({ limit: 10, targetType: 'node', targetId: 'node_1' })).length).toBe(2);
    expect((await repos.activity.list({ limit: 10, action: 'node.revoked' })).map((e) => e.at)).toEqual([
      T0 + 2,
    ]);
    expect((await repos.activity.list({ limit: 1, before: all[0]!.id })).map((e) => e.action)).toEqual([
      'server.started',
    ]);
  });
});
