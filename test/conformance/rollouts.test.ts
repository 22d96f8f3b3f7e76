/** Rollouts (issue 15) and a node's agent version on both engines. */
import { afterEach, describe, expect, it } from 'vitest';
import type { RolloutRecord } from '../../enroll-server/rollouts/rollout-repository.js';
import { ENGINES, type OpenEngine, openEngine } from '../helpers/engines.js';
import { T0, seedNode } from './fixtures.js';

const rollout = (id: string, createdAt: number, state: RolloutRecord['state'] = 'active'): RolloutRecord => ({
  id,
  artifact: 'homenode-agent',
  version: '2.0.0',
  stages: [
    { percent: 5, soakMinutes: 30 },
    { percent: 100, soakMinutes: 0 },
  ],
  maxFailures: 3,
  state,
  stage: 0,
  stageStartedAt: createdAt,
  reason: null,
  createdBy: 'tok_1',
  createdAt,
  updatedAt: createdAt,
});

describe.each(ENGINES)('rollout repository on %s', (engine) => {
  const open: OpenEngine[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((e) => e.close()));
  });
  async function setup() {
    const e = await openEngine(engine);
    open.push(e);
    return e.repos;
  }

  it('stores rollouts with their stages, lists newest first, finds the active ones and updates them', async () => {
    const repos = await setup();
    await repos.rollouts.insert(rollout('ro_a', T0));
    await repos.rollouts.insert(rollout('ro_b', T0 + 5, 'paused'));
    await repos.rollouts.insert(rollout('ro_c', T0 + 5));
    expect(await repos.rollouts.get('ro_a')).toEqual(rollout('ro_a', T0));
    expect(await repos.rollouts.get('ro_x')).toBeUndefined();
    expect((await repos.rollouts.list(10)).map((r) => r.id)).toEqual(['ro_c', 'ro_b', 'ro_a']);
    expect((await repos.rollouts.list(1)).map((r) => r.id)).toEqual(['ro_c']);
    expect((await repos.rollouts.active()).map((r) => r.id)).toEqual(['ro_a', 'ro_c']);
    await repos.rollouts.update('ro_a', {
      state: 'paused',
      stage: 1,
      stageStartedAt: T0 + 60_000,
      reason: '3 node(s) rolled back',
      updatedAt: T0 + 61_000,
    });
    expect(await repos.rollouts.get('ro_a')).toMatchObject({
      state: 'paused',
      stage: 1,
      stageStartedAt: T0 + 60_000,
      reason: '3 node(s) rolled back',
      updatedAt: T0 + 61_000,
      stages: rollout('ro_a', T0).stages,
    });
    expect((await repos.rollouts.active()).map((r) => r.id)).toEqual(['ro_c']);
  });

  it("keeps each node's state, and remembers a version that rolled back on a node", async () => {
    const repos = await setup();
    await repos.rollouts.insert(rollout('ro_a', T0));
    await repos.rollouts.insert(rollout('ro_b', T0 + 1));
    const base = { rolloutId: 'ro_a', version: '2.0.0', error: null, updatedAt: T0 };
    await repos.rollouts.setNode({ ...base, nodeId: 'node_2', state: 'offered' });
    await repos.rollouts.setNode({ ...base, nodeId: 'node_1', state: 'offered' });
    await repos.rollouts.setNode({
      ...base,
      nodeId: 'node_1',
      state: 'rolled-back',
      error: 'agent 2.0.0 exited at start 3 times',
      updatedAt: T0 + 9,
    });
    expect(await repos.rollouts.nodes('ro_a')).toEqual([
      {
        ...base,
        nodeId: 'node_1',
        state: 'rolled-back',
        error: 'agent 2.0.0 exited at start 3 times',
        updatedAt: T0 + 9,
      },
      { ...base, nodeId: 'node_2', state: 'offered' },
    ]);
    expect(await repos.rollouts.node('ro_a', 'node_2')).toEqual({
      ...base,
      nodeId: 'node_2',
      state: 'offered',
    });
    expect(await repos.rollouts.node('ro_b', 'node_2')).toBeUndefined();
    expect(await repos.rollouts.nodes('ro_b')).toEqual([]);
    expect(await repos.rollouts.rolledBackNodes('2.0.0')).toEqual(new Set(['node_1']));
    expect(await repos.rollouts.rolledBackNodes('2.0.1')).toEqual(new Set());
  });

  it('records the agent version a node says in its hello, only when it changed', async () => {
    const repos = await setup();
    await seedNode(repos, 1);
    const before = await repos.nodes.get('node_1');
    expect(await repos.nodes.setAgentVersion('node_1', '2.0.0', T0 + 100)).toBe(true);
    expect(await repos.nodes.setAgentVersion('node_1', '2.0.0', T0 + 200)).toBe(false);
    const after = await repos.nodes.get('node_1');
    expect(after?.agentVersion).toBe('2.0.0');
    expect(after?.updatedAt).toBe(T0 + 100);
    expect(before?.agentVersion).not.toBe('2.0.0');
    await seedNode(repos, 2);
    const on = async (agentVersion: string) =>
      (await repos.nodes.list({ agentVersion, limit: 10, offset: 0 })).nodes.map((n) => n.id);
    expect(await on('2.0.0')).toEqual(['node_1']);
    expect(await on(String(before?.agentVersion))).toEqual(['node_2']);
    expect(await on('9.9.9')).toEqual([]);
  });
});
