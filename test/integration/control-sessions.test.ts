/**
 * Control sessions that end stay ended (bye, revoke, a newer session: no frame processed after,
 * the socket closed within a second even if the peer ignores the close), connection limits before
 * the upgrade (per node, per address, in total, unauthenticated attempts), and the replay guard
 * surviving a restart. Real server, real SQLite, simulated nodes with real keys.
 */
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CONTROL_PATH } from '../../protocol/control.js';
import { connectControl, newSimIdentity, signNodeToken, signPayload } from '../../scripts/sim/sim-agent.js';
import { rtx4090Hardware } from '../helpers/enrollment.js';
import { rawWebSocket } from '../helpers/raw-websocket.js';
import { type TestServer, type TestServerOptions, startTestServer } from '../helpers/server.js';
import { type SimNode, connectRaw, connectSim, enrollSimNode, until, within } from '../helpers/sim-nodes.js';

const servers: TestServer[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function setup(options: TestServerOptions = {}) {
  const server = await startTestServer(options);
  servers.push(server);
  const owner = await server.createOwner();
  return { server, owner, repos: server.app.homenode.context.repos };
}

async function usageFrame(node: SimNode, seq: number) {
  const to = Date.now() - 60_000;
  const payload = {
    nodeId: node.nodeId,
    seq,
    from: new Date(to - 300_000).toISOString(),
    to: new Date(to).toISOString(),
    workloads: [{ leaseId: `lease-${seq}`, gpus: 1, seconds: 300 }],
  };
  return { type: 'usage', seq, report: await signPayload(node.identity, payload) };
}

async function twoGpuSnapshot(node: SimNode) {
  const hw = rtx4090Hardware();
  const hardware = { ...hw, gpus: [hw.gpus[0]!, { ...hw.gpus[0]!, uuid: 'GPU-second' }] };
  return {
    type: 'hardware',
    snapshot: await signPayload(node.identity, {
      nodeId: node.nodeId,
      takenAt: new Date().toISOString(),
      hardware,
    }),
  };
}

describe('a session that ended processes nothing more and its socket closes', () => {
  it('after bye: later frames get no ack and store nothing; the socket is closed within a second', async () => {
    const { server, owner, repos } = await setup();
    const node = await enrollSimNode(server, owner.id, { approve: true });
    const conn = await connectSim(server, node);
    await conn.next('welcome');
    const sentBye = Date.now();
    conn.send({ type: 'bye', reason: 'shutdown' });
    conn.send(await usageFrame(node, 1));
    conn.send(await twoGpuSnapshot(node));
    await within(conn.waitClosed(), 5000, 'the socket closing');
    expect(Date.now() - sentBye).toBeLessThan(1000);
    expect(conn.closeCode).toBe(1000);
    expect(conn.received.filter((m) => m.type === 'ack')).toEqual([]);
    expect(await repos.usage.forNode(node.nodeId)).toEqual([]);
    expect((await repos.nodes.get(node.nodeId))?.hardware.gpus).toHaveLength(1);
  });

  it('after bye from a peer that ignores the close frame: nothing is processed and the socket is cut within a second or so', async () => {
    const { server, owner, repos } = await setup();
    const node = await enrollSimNode(server, owner.id, { approve: true });
    const raw = await connectRaw(server, node);
    raw.sendJson({ type: 'hello', agentVersion: 'raw', bootId: 'b', hardwareDigest: 'd' });
    await until(() => raw.messages.some((m) => m.type === 'welcome'), 5000, 'welcome');
    raw.sendJson({ type: 'bye', reason: 'shutdown' });
    const sentBye = Date.now();
    for (let seq = 1; seq <= 5; seq += 1) raw.sendJson(await usageFrame(node, seq));
    await within(raw.whenClosed, 5000, 'the socket closing');
    expect(Date.now() - sentBye).toBeLessThan(2500);
    expect(raw.closeCode).toBe(1000);
    expect(raw.messages.filter((m) => m.type === 'ack')).toEqual([]);
    expect(await repos.usage.forNode(node.nodeId)).toEqual([]);
  });

  it('after a revoke: frames from the still-open socket are not processed; closed with 4403', async () => {
    const { server, owner, repos } = await setup();
    const node = await enrollSimNode(server, owner.id, { approve: true });
    const raw = await connectRaw(server, node);
    await until(() => raw.messages.some((m) => m.type === 'welcome'), 5000, 'welcome');
    await server.api('POST', `/v1/nodes/${node.nodeId}/revoke`, { body: { reason: 'test' } });
    await until(() => raw.closeCode !== undefined, 5000, 'the close frame');
    raw.sendJson(await usageFrame(node, 1));
    raw.sendJson({ type: 'join-result', ok: false, error: 'x' });
    await within(raw.whenClosed, 5000, 'the socket closing');
    expect(raw.closeCode).toBe(4403);
    expect(raw.messages.filter((m) => m.type === 'ack')).toEqual([]);
    expect(await repos.usage.forNode(node.nodeId)).toEqual([]);
    expect((await repos.flags.forNode(node.nodeId, 10, 0)).flags).toEqual([]);
  });

  it('after a newer session replaced it: the old socket is closed with 4409 and its frames are dropped', async () => {
    const { server, owner, repos } = await setup();
    const node = await enrollSimNode(server, owner.id, { approve: true });
    const old = await connectRaw(server, node);
    await until(() => old.messages.some((m) => m.type === 'welcome'), 5000, 'welcome');
    const fresh = await connectSim(server, node);
    await until(() => old.closeCode !== undefined, 5000, 'the close frame');
    old.sendJson(await usageFrame(node, 1));
    await within(old.whenClosed, 5000, 'the old socket closing');
    expect(old.closeCode).toBe(4409);
    expect(await repos.usage.forNode(node.nodeId)).toEqual([]);
    fresh.send(await usageFrame(node, 2));
    expect(await fresh.next('ack')).toEqual({ type: 'ack', seq: 2 });
    await fresh.close();
  });
});

describe('connection limits, before the upgrade', () => {
  it('200 connections from one pending node leave one session open; the rest get 429 with Retry-After', async () => {
    const { server, owner } = await setup();
    const node = await enrollSimNode(server, owner.id);
    const tokens = await Promise.all(
      Array.from({ length: 200 }, () => signNodeToken(node.identity, node.nodeId)),
    );
    const outcomes = await Promise.all(
      tokens.map(
        (token) =>
          new Promise<{ status: number; retryAfter?: string; socket?: WebSocket }>((resolve) => {
            const socket = new WebSocket(server.url.replace('http', 'ws') + CONTROL_PATH, {
              headers: { authorization: `Bearer ${token}` },
            });
            socket.on('error', () => undefined);
            socket.once('open', () => resolve({ status: 101, socket }));
            socket.once('unexpected-response', (_req, res) => {
              resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] });
              res.resume();
            });
          }),
      ),
    );
    const opened = outcomes.filter((o) => o.status === 101);
    const limited = outcomes.filter((o) => o.status === 429);
    // Six at once (the node's burst), and at most 20 being checked at a time from one address.
    expect(opened.length).toBeLessThanOrEqual(6);
    expect(limited.length).toBeGreaterThanOrEqual(194);
    expect(limited.every((o) => Number(o.retryAfter) >= 1)).toBe(true);
    // The server side: one WebSocket left (replaced ones are closed within the grace).
    await expect
      .poll(() => server.app.websocketServer.clients.size, { timeout: 3000, interval: 100 })
      .toBe(1);
    expect(opened.filter((o) => o.socket?.readyState === WebSocket.OPEN)).toHaveLength(1);
    for (const o of opened) o.socket?.close();
  });

  it('refuses a node past its connect allowance with 429 and says why', async () => {
    const { server, owner } = await setup({
      control: { nodeConnectBurst: 2, nodeConnectIntervalSeconds: 60 },
    });
    const node = await enrollSimNode(server, owner.id);
    const a = await connectSim(server, node);
    const b = await connectSim(server, node);
    const third = await connectControl(server.url, await signNodeToken(node.identity, node.nodeId));
    expect(third.refused).toMatchObject({ status: 429, body: expect.stringContaining('connects too often') });
    await Promise.all([a.close(false), b.close(false)]);
  });

  it('refuses a node that reconnects too often alone, not the other machines behind its address', async () => {
    const { server, owner } = await setup({
      control: { nodeConnectBurst: 1, nodeConnectIntervalSeconds: 600, maxFailuresPerAddress: 5 },
    });
    const [eager, neighbour] = await Promise.all([1, 2].map(() => enrollSimNode(server, owner.id)));
    await (await connectSim(server, eager!)).close(false);
    for (let i = 0; i < 20; i += 1) {
      const again = await connectControl(server.url, await signNodeToken(eager!.identity, eager!.nodeId));
      expect(again.refused?.status).toBe(429);
    }
    // Twenty refusals of a node that proved who it is are no failures of the address.
    const other = await connectSim(server, neighbour!);
    await other.close(false);
  });

  it('limits live sessions per client address (429) and in total (503), with Retry-After', async () => {
    const { server, owner } = await setup({ control: { maxPerAddress: 2, maxConnections: 100 } });
    const nodes = await Promise.all([1, 2, 3].map(() => enrollSimNode(server, owner.id)));
    const first = await connectSim(server, nodes[0]!);
    const second = await connectSim(server, nodes[1]!);
    const third = await rawWebSocket(server.url, CONTROL_PATH, {
      authorization: `Bearer ${await signNodeToken(nodes[2]!.identity, nodes[2]!.nodeId)}`,
    });
    expect(third.status).toBe(429);
    expect(third.headers['retry-after']).toBe('60');
    expect(third.body).toContain('Too many machines are connected from this address (2)');
    await first.close();
    await expect
      .poll(
        async () =>
          (await connectControl(server.url, await signNodeToken(nodes[2]!.identity, nodes[2]!.nodeId))).conn
            ?.socket.readyState,
        { timeout: 3000 },
      )
      .toBe(WebSocket.OPEN);
    await second.close(false);

    const { server: small, owner: o2 } = await setup({ control: { maxConnections: 1 } });
    const [n1, n2] = await Promise.all([enrollSimNode(small, o2.id), enrollSimNode(small, o2.id)]);
    const only = await connectSim(small, n1);
    const refused = await rawWebSocket(small.url, CONTROL_PATH, {
      authorization: `Bearer ${await signNodeToken(n2.identity, n2.nodeId)}`,
    });
    expect(refused.status).toBe(503);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.body).toContain('UNAVAILABLE');
    await only.close();
  });

  it('bounds unauthenticated upgrade attempts per address, even sent all at once', async () => {
    const { server, owner } = await setup({ control: { maxFailuresPerAddress: 5, maxPendingPerAddress: 4 } });
    const node = await enrollSimNode(server, owner.id);
    const stranger = await newSimIdentity();
    const forged = await Promise.all(Array.from({ length: 60 }, () => signNodeToken(stranger, node.nodeId)));
    const statuses = await Promise.all(
      forged.map(async (token) => (await connectControl(server.url, token)).refused?.status),
    );
    // Each forged token costs a key lookup and a signature check: at most 5 + 4 were checked.
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(9);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(51);
    // The address is locked out for the window, even with a good token.
    const good = await connectControl(server.url, await signNodeToken(node.identity, node.nodeId));
    expect(good.refused).toMatchObject({
      status: 429,
      body: expect.stringContaining('Too many refused control connections'),
    });
  });
});

describe('the replay guard', () => {
  it('refuses a node token used before a restart (same database)', async () => {
    const first = await startTestServer();
    const owner = await first.createOwner();
    const node = await enrollSimNode(first, owner.id);
    const token = await signNodeToken(node.identity, node.nodeId);
    const { conn } = await connectControl(first.url, token);
    expect(conn).toBeDefined();
    await conn?.close();
    await first.close({ keepFiles: true });
    dirs.push(first.dir);
    const second = await startTestServer({ dbPath: first.dbPath });
    servers.push(second);
    const replayed = await connectControl(second.url, token);
    expect(replayed.refused).toMatchObject({ status: 401, body: expect.stringContaining('TOKEN_REPLAYED') });
    const fresh = await connectControl(second.url, await signNodeToken(node.identity, node.nodeId));
    expect(fresh.conn).toBeDefined();
    await fresh.conn?.close();
  });
});
