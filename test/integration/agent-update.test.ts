/**
 * Agent updates over the air (docs/updates.md) with real agent processes: releases built by
 * build:agent's code, unpacked side by side under a temp folder, the real supervisor in front of the
 * real agent, the real server running the rollout. A good release becomes healthy (and a node that
 * was offline during the stage gets it when it is back); a release that crashes at start or hangs
 * before hello is rolled back by the supervisor within the window, the reason reaches the server,
 * and the rollout pauses at maxFailures; a version that rolled back is never offered again; an
 * interrupted download resumes; a release whose signature does not verify is never run.
 */
import { existsSync, readlinkSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type DaemonSetup, setupDaemon, startRelay } from './agent-daemon-support.js';
import { upload } from './artifact-support.js';
import { startCuttingProxy, type CuttingProxy } from './cutting-proxy.js';
import {
  type SupervisorProcess,
  brokenRelease,
  configureForUpdates,
  realRelease,
  releaseRoot,
  startSupervisor,
  startSwitchableProxy,
} from './agent-update-support.js';

type Rollout = {
  id: string;
  state: string;
  reason: string | null;
  nodes: { nodeId: string; state: string; error: string | null }[];
};

let setups: DaemonSetup[] = [];
let supervisors: SupervisorProcess[] = [];
let proxies: CuttingProxy[] = [];
afterEach(async () => {
  for (const p of supervisors) await p.stop();
  for (const p of proxies) await p.close();
  for (const s of setups) await s.cleanup();
  setups = [];
  supervisors = [];
  proxies = [];
});

const poll = { timeout: 90_000, interval: 200 };
let releaseA: string;
let releaseB: string;

beforeAll(async () => {
  releaseA = await realRelease('1.0.0');
  releaseB = await realRelease('2.0.0');
}, 120_000);

async function setup(healthSeconds = 600) {
  const s = await setupDaemon({
    approve: true,
    server: { deps: { rolloutTickMs: 200, updateHealthSeconds: healthSeconds } },
  });
  setups.push(s);
  await configureForUpdates(s);
  const root = releaseRoot(s, releaseA, '1.0.0');
  return { s, root };
}

function supervise(s: DaemonSetup, root: string, url?: string) {
  const p = startSupervisor(s, root, url);
  supervisors.push(p);
  return p;
}

async function rollout(s: DaemonSetup, version: string, maxFailures = 1) {
  const res = await s.server.api<{ id: string }>('POST', '/v1/rollouts', {
    body: { artifact: 'homenode-agent', version, stages: [{ percent: 100, soakMinutes: 0 }], maxFailures },
  });
  expect(res.status).toBe(201);
  return res.body.id;
}

const show = async (s: DaemonSetup, id: string) =>
  (await s.server.api<Rollout>('GET', `/v1/rollouts/${id}`)).body;
const nodeState = async (s: DaemonSetup, id: string) => (await show(s, id)).nodes[0]?.state;
const agentVersion = async (s: DaemonSetup) =>
  (await s.server.api<{ agentVersion: string }>('GET', `/v1/nodes/${s.nodeId}`)).body.agentVersion;
const current = (root: string) => readlinkSync(join(root, 'current'));

// Real agent processes started and restarted by the supervisor: generous bounds for a loaded machine.
describe('agent updates', { timeout: 240_000 }, () => {
  it('updates A to B when the node comes back online, and B stays: healthy, A kept to roll back to', async () => {
    const { s, root } = await setup();
    expect((await upload(s.server, 'homenode-agent', '2.0.0', readFileSync(releaseB))).status).toBe(201);
    // The rollout starts while the node is offline: it gets the update once it is back.
    const id = await rollout(s, '2.0.0');
    await new Promise((r) => setTimeout(r, 600));
    expect((await show(s, id)).nodes).toEqual([]);

    const sup = supervise(s, root);
    await sup.waitFor('Starting agent 1.0.0.');
    await expect.poll(() => nodeState(s, id), poll).toBe('healthy');
    expect(current(root)).toBe('releases/2.0.0');
    expect(existsSync(join(root, 'releases/1.0.0/homenode-agent.mjs'))).toBe(true);
    await expect.poll(() => agentVersion(s), poll).toBe('2.0.0');
    const onB = await s.server.api<{ nodes: { id: string; agentVersion: string }[] }>(
      'GET',
      '/v1/nodes?agentVersion=2.0.0',
    );
    expect(onB.body.nodes.map((n) => [n.id, n.agentVersion])).toEqual([[s.nodeId, '2.0.0']]);
    expect((await s.server.api<{ total: number }>('GET', '/v1/nodes?agentVersion=1.0.0')).body.total).toBe(0);
    expect(sup.output()).toContain('Starting agent 2.0.0 (new release, try 1 of 3).');
    await sup.waitFor(/Agent 2\.0\.0 is healthy; 1\.0\.0 is kept to roll back to\./);
    const state = JSON.parse(readFileSync(join(root, 'update-state.json'), 'utf8')) as {
      pending?: unknown;
      outcome: { state: string };
    };
    expect(state.pending).toBeUndefined();
    expect(state.outcome.state).toBe('healthy');
  });

  it('rolls back a B that exits at start, reports why, pauses the rollout and never offers B again', async () => {
    const { s, root } = await setup();
    const broken = await brokenRelease('2.0.1', 'crash');
    expect((await upload(s.server, 'homenode-agent', '2.0.1', readFileSync(broken))).status).toBe(201);
    const sup = supervise(s, root);
    await expect.poll(() => agentVersion(s), poll).toBe('1.0.0');
    await expect.poll(async () => (await s.node()).online, poll).toBe(true);
    const id = await rollout(s, '2.0.1');

    await expect.poll(() => nodeState(s, id), poll).toBe('rolled-back');
    // The report is stored, then the rollout paused by the tick it starts.
    await expect.poll(async () => (await show(s, id)).state, poll).toBe('paused');
    const shown = await show(s, id);
    expect(shown.nodes[0]?.error).toMatch(/agent 2\.0\.1 exited at start 3 times \(last: exit code 1\)/);
    expect(shown.nodes[0]?.error).toContain('Cannot find module ./missing-piece.js');
    expect(shown.state).toBe('paused');
    expect(shown.reason).toMatch(/1 node\(s\) rolled back or failed \(maxFailures 1\)/);
    expect(current(root)).toBe('releases/1.0.0');
    expect(sup.output()).toContain('Rolling back from 2.0.1 to 1.0.0');
    await expect.poll(() => agentVersion(s), poll).toBe('1.0.0');

    // A new rollout of the same version: this node is not offered it.
    const again = await rollout(s, '2.0.1', 5);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await show(s, again)).nodes).toEqual([]);
    const activity = await s.server.api<{ entries: { action: string }[] }>(
      'GET',
      '/v1/audit?targetType=rollout',
    );
    expect(activity.body.entries.map((e) => e.action)).toEqual(
      expect.arrayContaining(['rollout.created', 'rollout.node-rolled-back', 'rollout.paused']),
    );
  });

  it('rolls back a B that hangs before hello once the window passes', async () => {
    const { s, root } = await setup(10);
    const hanging = await brokenRelease('2.0.2', 'hang');
    expect((await upload(s.server, 'homenode-agent', '2.0.2', readFileSync(hanging))).status).toBe(201);
    const sup = supervise(s, root);
    await expect.poll(async () => (await s.node()).online, poll).toBe(true);
    const id = await rollout(s, '2.0.2');
    await sup.waitFor('Starting agent 2.0.2 (new release, try 1 of 3).', 60_000);
    const switchedAt = Date.now();
    await expect.poll(() => nodeState(s, id), poll).toBe('rolled-back');
    // Within the window (10 s) plus the stop, the restart of A and its reconnect.
    expect(Date.now() - switchedAt).toBeLessThan(60_000);
    expect((await show(s, id)).nodes[0]?.error).toMatch(
      /the new agent was not welcomed by the server within 10 s \(it hung before hello, or could not reach the server\)/,
    );
    expect(current(root)).toBe('releases/1.0.0');
  });

  it('rolls back a B that cannot reach the server, and says why once A is connected again', async () => {
    const { s, root } = await setup(10);
    expect((await upload(s.server, 'homenode-agent', '2.0.0', readFileSync(releaseB))).status).toBe(201);
    const line = await startSwitchableProxy(s.server.url);
    const sup = supervise(s, root, line.url);
    try {
      await expect.poll(async () => (await s.node()).online, poll).toBe(true);
      const id = await rollout(s, '2.0.0');
      await sup.waitFor('Starting agent 2.0.0 (new release, try 1 of 3).', 60_000);
      line.block();
      await sup.waitFor('Rolling back from 2.0.0 to 1.0.0', 60_000);
      // The reason is written first, then `current` switched back.
      await expect.poll(() => current(root), poll).toBe('releases/1.0.0');
      line.unblock();
      await expect.poll(() => nodeState(s, id), poll).toBe('rolled-back');
      expect((await show(s, id)).nodes[0]?.error).toMatch(
        /the new agent was not welcomed by the server within 10 s \(it hung before hello, or could not reach the server\)/,
      );
      await expect.poll(() => agentVersion(s), poll).toBe('1.0.0');
    } finally {
      await line.close();
    }
  });

  it('resumes an interrupted download of the release', async () => {
    const { s, root } = await setup();
    expect((await upload(s.server, 'homenode-agent', '2.0.0', readFileSync(releaseB))).status).toBe(201);
    const proxy = await startCuttingProxy(s.server.url, 150_000);
    proxies.push(proxy);
    supervise(s, root, proxy.url);
    await expect.poll(async () => (await s.node()).online, poll).toBe(true);
    const id = await rollout(s, '2.0.0');
    await expect.poll(() => nodeState(s, id), poll).toBe('healthy');
    expect(proxy.cutAt).toBe(150_000);
    expect(proxy.ranges[0]).toBe('');
    expect(proxy.ranges[1]).toMatch(/^bytes=\d+-$/);
    expect(current(root)).toBe('releases/2.0.0');
  });

  it('refuses a release whose signature does not verify: nothing downloaded, installed or run', async () => {
    const { s, root } = await setup();
    const a = await upload(s.server, 'homenode-agent', '1.0.0', readFileSync(releaseA));
    expect((await upload(s.server, 'homenode-agent', '2.0.0', readFileSync(releaseB))).status).toBe(201);
    // A man in the middle swaps in a genuine signature over other claims (release 1.0.0's).
    const relay = await startRelay(s.server.url, (text) => {
      const frame = JSON.parse(text) as { type: string; artifact?: { signature: string } };
      if (frame.type !== 'update' || !frame.artifact) return text;
      frame.artifact.signature = String(a.body.signature);
      return JSON.stringify(frame);
    });
    const sup = supervise(s, root, relay.url);
    await expect.poll(async () => (await s.node()).online, poll).toBe(true);
    const id = await rollout(s, '2.0.0');
    await expect.poll(() => nodeState(s, id), poll).toBe('failed');
    expect((await show(s, id)).nodes[0]?.error).toMatch(
      /homenode-agent 2\.0\.0 was refused and nothing was downloaded or installed/,
    );
    expect(existsSync(join(root, 'releases/2.0.0'))).toBe(false);
    expect(current(root)).toBe('releases/1.0.0');
    expect(sup.output()).not.toContain('Starting agent 2.0.0');
    await relay.close();
  });
});
