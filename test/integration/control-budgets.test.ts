/**
 * What a node's valid frames may cost the server: per-node frame budgets (over budget → an error
 * frame, repeated → closed), join results only in answer to a join, one open flag per kind with a
 * count, paged flags in node detail, and a hardware history that does not grow with every
 * snapshot. Real server, real SQLite, simulated nodes with real keys.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { HardwareFacts } from '../../protocol/hardware.js';
import { signPayload, simMetrics } from '../../scripts/sim/sim-agent.js';
import { rtx4090Hardware } from '../helpers/enrollment.js';
import { type TestServer, type TestServerOptions, startTestServer } from '../helpers/server.js';
import { type SimNode, connectSim, enrollSimNode, within } from '../helpers/sim-nodes.js';

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function setup(options: TestServerOptions = {}) {
  const server = await startTestServer(options);
  servers.push(server);
  const owner = await server.createOwner();
  return { server, owner, repos: server.app.homenode.context.repos };
}

const snapshot = async (node: SimNode, hardware: HardwareFacts) => ({
  type: 'hardware',
  snapshot: await signPayload(node.identity, {
    nodeId: node.nodeId,
    takenAt: new Date().toISOString(),
    hardware,
  }),
});

describe('frame budgets', () => {
  it('answers heartbeats past the budget with RATE_LIMITED and closes the session on repeated excess', async () => {
    const { server, owner } = await setup();
    const node = await enrollSimNode(server, owner.id);
    const conn = await connectSim(server, node);
    await conn.next('welcome');
    for (let seq = 1; seq <= 20; seq += 1) conn.send({ type: 'heartbeat', seq, metrics: simMetrics(seq) });
    await within(conn.waitClosed(), 5000, 'the session closing');
    expect(conn.closeCode).toBe(4408);
    const errors = conn.received.filter((m) => m.type === 'error');
    // 4 heartbeats at once are fine; the 10th refused one ends the session.
    expect(errors).toHaveLength(10);
    expect(errors[0]).toMatchObject({
      code: 'RATE_LIMITED',
      message:
        'Too many "heartbeat" messages: at most 4 at once and one every 5 s. This one was not processed.',
    });
    const metrics = await server.api<string>('GET', '/metrics', { token: null });
    expect(metrics.body).toMatch(/^homenode_control_messages_total\{type="heartbeat"\} 4$/m);
    expect(metrics.body).toMatch(/^homenode_control_messages_total\{type="over-budget"\} 10$/m);
  });

  it('keeps budgets per node: reconnecting does not refill them', async () => {
    const { server, owner } = await setup();
    const node = await enrollSimNode(server, owner.id);
    const first = await connectSim(server, node);
    for (let seq = 1; seq <= 4; seq += 1) first.send({ type: 'heartbeat', seq, metrics: simMetrics(seq) });
    await first.sync();
    await first.close(false);
    const second = await connectSim(server, node);
    second.send({ type: 'heartbeat', seq: 5, metrics: simMetrics(5) });
    expect(await second.next('error')).toMatchObject({ code: 'RATE_LIMITED' });
    await second.close(false);
  });

  it('takes a day of spooled usage reports at once after a reconnect (the budget fits a real agent)', async () => {
    const { server, owner, repos } = await setup();
    const node = await enrollSimNode(server, owner.id, { approve: true });
    const conn = await connectSim(server, node);
    const start = Date.now() - 2 * 86_400_000;
    const reports = await Promise.all(
      Array.from({ length: 288 }, (_, i) =>
        signPayload(node.identity, {
          nodeId: node.nodeId,
          seq: i + 1,
          from: new Date(start + i * 300_000).toISOString(),
          to: new Date(start + (i + 1) * 300_000).toISOString(),
          workloads: [],
        }),
      ),
    );
    reports.forEach((report, i) => conn.send({ type: 'usage', seq: i + 1, report }));
    await expect
      .poll(() => conn.received.filter((m) => m.type === 'ack').length, { timeout: 20_000 })
      .toBe(288);
    expect(conn.received.filter((m) => m.type === 'error')).toEqual([]);
    expect(await repos.usage.forNode(node.nodeId)).toHaveLength(288);
    await conn.close();
  });
});

describe('join results and flags', () => {
  it('ignores join results the server never asked for: no flag, no activity entry', async () => {
    const { server, owner, repos } = await setup();
    const node = await enrollSimNode(server, owner.id);
    const conn = await connectSim(server, node);
    await conn.next('welcome');
    for (let i = 0; i < 3; i += 1) conn.send({ type: 'join-result', ok: false, error: 'x'.repeat(4000) });
    await conn.sync();
    expect((await repos.flags.forNode(node.nodeId, 10, 0)).total).toBe(0);
    const audit = await server.api<{ entries: { action: string }[] }>(
      'GET',
      `/v1/audit?targetId=${node.nodeId}`,
    );
    expect(audit.body.entries.map((e) => e.action)).not.toContain('node.join_failed');
    await conn.close();
  });

  it('records a failed join once per join sent, as one open flag with a count', async () => {
    const { server, owner } = await setup();
    const node = await enrollSimNode(server, owner.id, { approve: true });
    for (let i = 0; i < 3; i += 1) {
      const conn = await connectSim(server, node);
      await conn.next('join');
      conn.send({ type: 'join-result', ok: false, error: `wg-quick up failed (${i})` });
      if (i === 0) conn.send({ type: 'join-result', ok: false, error: 'an extra one, never asked for' });
      await conn.sync();
      await conn.close();
    }
    const detail = await server.api<{ flags: Record<string, unknown>[]; flagsTotal: number }>(
      'GET',
      `/v1/nodes/${node.nodeId}`,
    );
    expect(detail.body.flagsTotal).toBe(1);
    expect(detail.body.flags).toEqual([
      expect.objectContaining({
        kind: 'join-failed',
        count: 3,
        message: 'Joining the cluster failed: wg-quick up failed (2)',
        resolvedAt: null,
      }),
    ]);
  });

  it('counts reconnects that replace a live session in one duplicate-session flag', async () => {
    const { server, owner } = await setup();
    const node = await enrollSimNode(server, owner.id);
    const conns = [];
    for (let i = 0; i < 5; i += 1) conns.push(await connectSim(server, node));
    await expect
      .poll(
        async () =>
          (await server.api<{ flags: { kind: string; count: number }[] }>('GET', `/v1/nodes/${node.nodeId}`))
            .body.flags,
      )
      .toEqual([expect.objectContaining({ kind: 'duplicate-session', count: 4 })]);
    await Promise.all(conns.map((c) => c.close(false)));
  });

  it('keeps node detail small: 300 occurrences make one flag; many kinds are paged', async () => {
    const { server, owner, repos } = await setup();
    const node = await enrollSimNode(server, owner.id);
    const at = Date.now();
    for (let i = 0; i < 300; i += 1)
      await repos.flags.add(node.nodeId, 'join-failed', `failure ${i} ${'x'.repeat(4000)}`, {}, at + i);
    for (let i = 0; i < 30; i += 1)
      await repos.flags.add(node.nodeId, `kind-${i}`, `kind ${i}`, {}, at + 1000 + i);
    const res = await fetch(`${server.url}/v1/nodes/${node.nodeId}`, {
      headers: { authorization: `Bearer ${server.adminToken}` },
    });
    const text = await res.text();
    expect(text.length).toBeLessThan(32 * 1024);
    const detail = JSON.parse(text) as { flags: { kind: string }[]; flagsTotal: number };
    expect(detail.flagsTotal).toBe(31);
    expect(detail.flags).toHaveLength(20);
    expect(detail.flags[0]?.kind).toBe('kind-29');
    const page = await server.api<{ flags: { kind: string; count: number }[]; total: number }>(
      'GET',
      `/v1/nodes/${node.nodeId}/flags?limit=10&offset=30`,
    );
    expect(page.body).toEqual({
      total: 31,
      flags: [expect.objectContaining({ kind: 'join-failed', count: 300 })],
    });
    const stranger = await server.tokenFor('owner', (await server.createOwner()).id);
    expect((await server.api('GET', `/v1/nodes/${node.nodeId}/flags`, { token: stranger })).status).toBe(404);
  });
});

describe('hardware history', () => {
  it('grows by at most two rows per approval (the approved one kept), not per snapshot; extra snapshots are refused by the budget', async () => {
    const { server, owner, repos } = await setup();
    const node = await enrollSimNode(server, owner.id, { approve: true });
    const conn = await connectSim(server, node);
    const hw = rtx4090Hardware();
    const rows = async () => (await repos.payouts.hardwareHistory(node.nodeId)).length;
    expect(await rows()).toBe(1);
    // Same GPUs, another kernel: the row the node was approved with stays; one row is added (later
    // ones with the same GPUs amend it).
    conn.send(await snapshot(node, { ...hw, os: { ...hw.os, kernel: '6.1.0-99-amd64' } }));
    const kernels = async () =>
      (await repos.payouts.hardwareHistory(node.nodeId)).map((h) => h.hardware.os.kernel);
    await expect.poll(kernels).toEqual([hw.os.kernel, '6.1.0-99-amd64']);
    // Other GPUs while approved: a new row, and the node goes back to pending.
    const two = { ...hw, gpus: [hw.gpus[0]!, { ...hw.gpus[0]!, uuid: 'GPU-two' }] };
    conn.send(await snapshot(node, two));
    expect(await conn.next('status')).toMatchObject({ status: 'pending' });
    expect(await rows()).toBe(3);
    // Flapping while pending (unpaid): amends, however often.
    const none = { ...hw, gpus: [] };
    for (const h of [hw, two, none, hw]) conn.send(await snapshot(node, h));
    await expect.poll(async () => (await repos.nodes.get(node.nodeId))?.hardware.gpus.length).toBe(1);
    expect(await rows()).toBe(3);
    // The seventh snapshot in a row is over the budget (6 at once, then one every 2 minutes).
    conn.send(await snapshot(node, hw));
    expect(await conn.next('error')).toMatchObject({ code: 'RATE_LIMITED' });
    expect(await rows()).toBe(3);
    await conn.close();
  });
});
