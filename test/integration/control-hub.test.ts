import { existsSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { runAdmin } from '../../scripts/admin/cli.js';
import {
  type SimIdentity,
  connectControl,
  newSimIdentity,
  signNodeToken,
  signPayload,
  simHello,
  simMetrics,
} from '../../scripts/sim/sim-agent.js';
import { enrollBody, newMachine, rtx4090Hardware } from '../helpers/enrollment.js';
import { type TestServer, startTestServer } from '../helpers/server.js';

describe('control channel hub (simulated agents, real server)', () => {
  const servers: TestServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  async function setup() {
    const server = await startTestServer();
    servers.push(server);
    const owner = await server.createOwner();
    const enroll = async (approve = false) => {
      const identity = await newSimIdentity();
      const machine = { ...(await newMachine()), publicKey: identity.publicJwk };
      const res = await server.api<{ nodeId: string }>('POST', '/v1/enroll', {
        token: null,
        body: enrollBody((await server.createKey(owner.id)).key, machine),
      });
      const nodeId = res.body.nodeId;
      if (approve) await server.api('POST', `/v1/nodes/${nodeId}/approve`, { body: {} });
      return { nodeId, identity, machine };
    };
    const connect = async (nodeId: string, identity: SimIdentity) => {
      const { conn, refused } = await connectControl(server.url, await signNodeToken(identity, nodeId));
      if (!conn) throw new Error(`refused: ${JSON.stringify(refused)}`);
      conn.send(simHello());
      await conn.sync();
      return conn;
    };
    const node = (id: string) =>
      server.api<Record<string, unknown> & { online: boolean; status: string; metrics: unknown }>(
        'GET',
        `/v1/nodes/${id}`,
      );
    return { server, owner, enroll, connect, node };
  }

  it('shows a node online at once with its metrics, and offline at once after bye', async () => {
    const { enroll, connect, node } = await setup();
    const { nodeId, identity } = await enroll();
    const conn = await connect(nodeId, identity);
    const welcome = await conn.next('welcome');
    expect(welcome).toMatchObject({ nodeId, status: 'pending', policy: { requireGpu: true } });
    conn.send({ type: 'heartbeat', seq: 1, metrics: simMetrics(3) });
    await expect
      .poll(async () => (await node(nodeId)).body.metrics, { timeout: 3000 })
      .toMatchObject({ load1: 0.8, gpus: [{ utilizationPct: 3 }] });
    expect((await node(nodeId)).body.online).toBe(true);
    const metrics = await servers[0]!.api<string>('GET', '/metrics', { token: null });
    expect(metrics.body).toMatch(/^homenode_connected_nodes 1$/m);
    expect(metrics.body).toMatch(/^homenode_control_messages_total\{type="heartbeat"\} 1$/m);
    await conn.close(true);
    await expect.poll(async () => (await node(nodeId)).body.online, { timeout: 3000 }).toBe(false);
  });

  it('pushes approval at once, sends join, and makes the node active on a good join result', async () => {
    const { server, enroll, connect, node } = await setup();
    const { nodeId, identity } = await enroll();
    const conn = await connect(nodeId, identity);
    await conn.next('welcome');
    await server.api('POST', `/v1/nodes/${nodeId}/approve`, { body: {} });
    expect(await conn.next('status')).toMatchObject({ status: 'approved' });
    const join = await conn.next('join');
    expect(join.cluster.nodeName).toBe(nodeId.replace('_', '-'));
    expect(join.network.address).toMatch(/^100\.64\.0\.\d+\/32$/);
    expect(join.labels['akash.network/capabilities.gpu.vendor.nvidia.model.rtx4090']).toBe('1');
    conn.send({
      type: 'join-result',
      ok: true,
      wireguardPublicKey: 'HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=',
    });
    expect(await conn.next('status')).toMatchObject({ status: 'active' });
    expect((await node(nodeId)).body.status).toBe('active');
    const peers = await server.api<{ peers: { nodeId: string; allowedIps: string }[] }>(
      'GET',
      '/v1/wireguard/peers',
    );
    expect(peers.body.peers).toEqual([expect.objectContaining({ nodeId, allowedIps: join.network.address })]);
    const out: string[] = [];
    await runAdmin(
      ['wireguard-peers'],
      { url: server.url, token: server.adminToken },
      { out: (t) => out.push(t), err: (t) => out.push(t) },
    );
    expect(out.join('\n')).toContain(
      `[Peer]\nPublicKey = HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=\nAllowedIPs = ${join.network.address}`,
    );
    await conn.close();
  });

  it('refuses forged, expired, replayed and wrong-audience tokens, and a clock 10 minutes off, with reasons', async () => {
    const { enroll } = await setup();
    const { server } = { server: servers[0]! };
    const { nodeId, identity } = await enroll();
    const stranger = await newSimIdentity();
    const tryToken = async (token: string) => (await connectControl(server.url, token)).refused;

    expect(await tryToken(await signNodeToken(stranger, nodeId))).toMatchObject({
      status: 401,
      body: expect.stringContaining('TOKEN_INVALID'),
    });
    expect(
      await tryToken(await signNodeToken(identity, nodeId, { skewSeconds: -400, ttlSeconds: 120 })),
    ).toMatchObject({ status: 401 });
    expect(await tryToken(await signNodeToken(identity, nodeId, { audience: 'elsewhere' }))).toMatchObject({
      status: 401,
    });
    expect(await tryToken(await signNodeToken(identity, nodeId, { ttlSeconds: 3600 }))).toMatchObject({
      status: 401,
      body: expect.stringContaining('at most 300'),
    });
    const ahead = await tryToken(await signNodeToken(identity, nodeId, { skewSeconds: 600 }));
    expect(ahead).toMatchObject({ status: 401, body: expect.stringContaining('10 minutes ahead') });
    const behind = await tryToken(await signNodeToken(identity, nodeId, { skewSeconds: -600 }));
    expect(behind).toMatchObject({ status: 401, body: expect.stringContaining('10 minutes behind') });
    expect(await tryToken('not-a-jwt')).toMatchObject({ status: 401 });

    const token = await signNodeToken(identity, nodeId);
    const first = await connectControl(server.url, token);
    expect(first.conn).toBeDefined();
    expect(await tryToken(token)).toMatchObject({
      status: 401,
      body: expect.stringContaining('TOKEN_REPLAYED'),
    });
    await first.conn?.close();
    const metrics = await server.api<string>('GET', '/metrics', { token: null });
    expect(metrics.body).toMatch(/homenode_control_auth_failures_total\{code="TOKEN_REPLAYED"\} 1/);
  });

  it('tells a revoked node why and closes its channel; refuses it afterwards', async () => {
    const { server, enroll, connect } = await setup();
    const { nodeId, identity } = await enroll(true);
    const conn = await connect(nodeId, identity);
    await conn.next('welcome');
    await server.api('POST', `/v1/nodes/${nodeId}/revoke`, { body: { reason: 'mining on the side' } });
    expect(await conn.next('status')).toMatchObject({ status: 'revoked', reason: 'mining on the side' });
    await conn.waitClosed();
    expect(conn.closeCode).toBe(4403);
    const again = await connectControl(server.url, await signNodeToken(identity, nodeId));
    expect(again.refused).toMatchObject({ status: 403, body: expect.stringContaining('mining on the side') });
  });

  it('stores a usage report once when it is sent twice, and refuses a forged one', async () => {
    const { server, enroll, connect } = await setup();
    const { nodeId, identity } = await enroll(true);
    const conn = await connect(nodeId, identity);
    await conn.next('welcome');
    const payload = {
      nodeId,
      seq: 7,
      from: '2026-11-02T10:00:00Z',
      to: '2026-11-02T10:05:00Z',
      workloads: [{ leaseId: 'lease-1', gpus: 1, seconds: 300 }],
    };
    const report = await signPayload(identity, payload);
    conn.send({ type: 'usage', seq: 7, report });
    conn.send({ type: 'usage', seq: 7, report });
    expect(await conn.next('ack')).toEqual({ type: 'ack', seq: 7 });
    expect(await conn.next('ack')).toEqual({ type: 'ack', seq: 7 });
    const rows = await server.app.homenode.context.repos.usage.forNode(nodeId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ seq: 7, workloads: [{ leaseId: 'lease-1', gpus: 1, seconds: 300 }] });

    const forged = await signPayload(await newSimIdentity(), { ...payload, seq: 8 });
    conn.send({ type: 'usage', seq: 8, report: forged });
    expect(await conn.next('error')).toMatchObject({ code: 'USAGE_REFUSED' });
    expect(await server.app.homenode.context.repos.usage.forNode(nodeId)).toHaveLength(1);
    await conn.close();
  });

  it('puts an approved node back to pending when a signed snapshot shows other GPUs', async () => {
    const { server, enroll, connect, node } = await setup();
    const { nodeId, identity } = await enroll(true);
    const conn = await connect(nodeId, identity);
    await conn.next('welcome');
    const hw = rtx4090Hardware();
    const swapped = { ...hw, gpus: [hw.gpus[0]!, { ...hw.gpus[0]!, uuid: 'GPU-2' }] };
    conn.send({
      type: 'hardware',
      snapshot: await signPayload(identity, { nodeId, takenAt: new Date().toISOString(), hardware: swapped }),
    });
    expect(await conn.next('status')).toMatchObject({
      status: 'pending',
      reason: expect.stringContaining('2× nvidia/rtx4090/24Gi'),
    });
    const detail = await node(nodeId);
    expect(detail.body).toMatchObject({
      status: 'pending',
      labels: { 'akash.network/capabilities.gpu.vendor.nvidia.model.rtx4090': '2' },
    });
    await conn.close();
    void server;
  });

  it('answers bad frames with error frames, closes on repeated abuse, and refuses frames over 64 KiB', async () => {
    const { server, enroll, connect } = await setup();
    const { nodeId, identity } = await enroll();
    const conn = await connect(nodeId, identity);
    await conn.next('welcome');
    conn.send('{not json');
    expect(await conn.next('error')).toMatchObject({ code: 'MALFORMED_JSON' });
    conn.send({ type: 'heartbeat', seq: -1, metrics: {} });
    expect(await conn.next('error')).toMatchObject({
      code: 'INVALID_MESSAGE',
      message: expect.stringContaining('heartbeat'),
    });
    conn.send({ type: 'launch-missiles' });
    expect(await conn.next('error')).toMatchObject({ code: 'INVALID_MESSAGE' });
    for (let i = 0; i < 10; i += 1) conn.send('[]');
    await conn.waitClosed();
    expect(conn.closeCode).toBe(4408);

    const big = await connect(nodeId, identity);
    big.send({ type: 'bye', reason: 'x'.repeat(70 * 1024) });
    await big.waitClosed();
    expect(big.closeCode).toBe(1009);
    expect((await server.api('GET', '/healthz', { token: null })).status).toBe(200);
  });

  it('runs a command and records it; refuses shells to non-ops tokens and to offline nodes', async () => {
    const { server, enroll, connect, owner } = await setup();
    const { nodeId, identity } = await enroll(true);
    const conn = await connect(nodeId, identity);
    await conn.next('welcome');
    const pending = server.api<{ ok: boolean; output: string; id: string }>(
      'POST',
      `/v1/nodes/${nodeId}/commands`,
      { body: { type: 'run-preflight' } },
    );
    const command = await conn.next('command');
    expect(command).toMatchObject({ name: 'run-preflight', args: {} });
    conn.send({ type: 'result', id: command.id, ok: true, output: 'all checks passed' });
    const result = await pending;
    expect(result.body).toMatchObject({ ok: true, output: 'all checks passed', type: 'run-preflight' });
    const output = await server.api<string>('GET', `/v1/nodes/${nodeId}/commands/${result.body.id}/output`);
    expect(output.body).toBe('all checks passed');
    const audit = await server.api<{ entries: { action: string }[] }>('GET', `/v1/audit?targetId=${nodeId}`);
    expect(audit.body.entries.map((e) => e.action)).toContain('node.command');

    const shellUrl = `${server.url.replace('http', 'ws')}/v1/nodes/${nodeId}/shell`;
    const status = (token?: string) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(shellUrl, token ? { headers: { authorization: `Bearer ${token}` } } : {});
        ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.once('open', () => {
          ws.close();
          resolve(101);
        });
      });
    expect(await status()).toBe(401);
    expect(await status(await server.tokenFor('reviewer'))).toBe(403);
    expect(await status(await server.tokenFor('owner', owner.id))).toBe(403);
    await conn.close();
    await expect.poll(() => status(server.adminToken)).toBe(409);
    expect(
      (await server.api('POST', `/v1/nodes/${nodeId}/commands`, { body: { type: 'reboot' } })).status,
    ).toBe(409);
  });

  it('relays a shell session and records it as asciicast', async () => {
    const { server, enroll, connect } = await setup();
    const { nodeId, identity } = await enroll(true);
    const conn = await connect(nodeId, identity);
    await conn.next('welcome');
    const ops = new WebSocket(
      `${server.url.replace('http', 'ws')}/v1/nodes/${nodeId}/shell?cols=100&rows=30`,
      { headers: { authorization: `Bearer ${await server.tokenFor('ops')}` } },
    );
    const fromServer: Record<string, unknown>[] = [];
    ops.on('message', (d: Buffer) => fromServer.push(JSON.parse(d.toString()) as Record<string, unknown>));
    await new Promise((r) => ops.once('open', r));
    const open = await conn.next('shell-open');
    expect(open).toMatchObject({ cols: 100, rows: 30 });
    conn.send({ type: 'shell-opened', sessionId: open.sessionId });
    await expect.poll(() => fromServer.map((f) => f.type)).toEqual(['ready']);
    ops.send(JSON.stringify({ type: 'input', data: 'echo hello\n' }));
    const input = await conn.next('shell-data');
    expect(Buffer.from(input.data, 'base64').toString()).toBe('echo hello\n');
    conn.send({
      type: 'shell-data',
      sessionId: open.sessionId,
      data: Buffer.from('hello\r\n').toString('base64'),
    });
    ops.send(JSON.stringify({ type: 'resize', cols: 120, rows: 40 }));
    expect(await conn.next('shell-resize')).toMatchObject({ cols: 120, rows: 40 });
    conn.send({ type: 'shell-close', sessionId: open.sessionId, reason: 'The shell exited.', exitCode: 0 });
    await new Promise((r) => ops.once('close', r));
    expect(fromServer.map((f) => f.type)).toEqual(['ready', 'output', 'end']);
    expect(fromServer.at(-1)).toMatchObject({ reason: 'The shell exited.', exitCode: 0 });
    const sessions = await server.api<{ sessions: { id: string; closeReason: string }[] }>(
      'GET',
      `/v1/nodes/${nodeId}/shell-sessions`,
    );
    expect(sessions.body.sessions).toEqual([
      expect.objectContaining({ id: open.sessionId, closeReason: 'The shell exited.' }),
    ]);
    const path = `${server.dir}/recordings/${nodeId}/${open.sessionId}.cast`;
    expect(existsSync(path)).toBe(true);
    const lines = readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown);
    expect(lines[0]).toMatchObject({ version: 2, width: 100, height: 30 });
    expect(lines.slice(1).map((l) => (l as unknown[])[1])).toEqual(['i', 'o', 'r']);
    await conn.close();
  });
});
