/**
 * Several enroll-server replicas on one PostgreSQL database, on loopback: whatever replica ops
 * and nodes talk to, status pushes, commands and shells reach the replica that holds the node's
 * session. Real servers from buildApp, real PostgreSQL, simulated agents on the real protocol.
 */
import { existsSync } from 'node:fs';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { connectControl, newSimIdentity, signNodeToken, simHello } from '../../scripts/sim/sim-agent.js';
import { testDatabase } from '../helpers/engines.js';
import { enrollBody, newMachine } from '../helpers/enrollment.js';
import { type TestServer, startTestServer } from '../helpers/server.js';

const SECRET = 'replica-secret-for-tests-0123456789abcdefghij';

describe('replicas on one PostgreSQL database', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  let databaseUrl = '';
  async function fleet(count = 3): Promise<TestServer[]> {
    const db = await testDatabase();
    databaseUrl = db.url;
    cleanups.push(() => db.drop());
    const replicas: TestServer[] = [];
    for (let i = 0; i < count; i += 1) {
      const server = await startTestServer({
        databaseUrl: db.url,
        replica: { secret: SECRET, heartbeatMs: 500, lapseMs: 3000 },
      });
      cleanups.push(() => server.close());
      replicas.push(server);
    }
    return replicas;
  }

  async function enrollOn(server: TestServer) {
    const owner = await server.createOwner();
    const identity = await newSimIdentity();
    const machine = { ...(await newMachine()), publicKey: identity.publicJwk };
    const res = await server.api<{ nodeId: string; status: string }>('POST', '/v1/enroll', {
      token: null,
      body: enrollBody((await server.createKey(owner.id)).key, machine),
    });
    expect(res.status).toBe(201);
    return { nodeId: res.body.nodeId, identity };
  }

  async function connectTo(
    server: TestServer,
    nodeId: string,
    identity: Awaited<ReturnType<typeof newSimIdentity>>,
  ) {
    const { conn, refused } = await connectControl(server.url, await signNodeToken(identity, nodeId));
    if (!conn) throw new Error(`refused: ${JSON.stringify(refused)}`);
    conn.send(simHello());
    await conn.sync();
    cleanups.push(() => conn.close().catch(() => undefined));
    return conn;
  }

  it('enrolled through one replica, approved on another: the node on a third is told at once and joins', async () => {
    const [a, b, c] = await fleet(3);
    const { nodeId, identity } = await enrollOn(a!);
    const conn = await connectTo(c!, nodeId, identity);
    expect(await conn.next('welcome')).toMatchObject({ nodeId, status: 'pending' });
    const approvedAt = Date.now();
    expect((await b!.api('POST', `/v1/nodes/${nodeId}/approve`, { body: {} })).status).toBe(200);
    expect(await conn.next('status', () => true, 3000)).toMatchObject({ status: 'approved' });
    const join = await conn.next('join', () => true, 3000);
    expect(Date.now() - approvedAt).toBeLessThan(3000);
    expect(join.network.address).toMatch(/^100\.64\.0\.\d+\/32$/);
    conn.send({
      type: 'join-result',
      ok: true,
      wireguardPublicKey: 'HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=',
    });
    expect(await conn.next('status')).toMatchObject({ status: 'active' });
    // Every replica sees the node active, and online wherever it is connected.
    for (const server of [a!, b!, c!]) {
      await expect
        .poll(
          async () =>
            (await server.api<{ status: string; online: boolean }>('GET', `/v1/nodes/${nodeId}`)).body,
          {
            timeout: 8000,
          },
        )
        .toMatchObject({ status: 'active', online: true });
    }
    const online = await a!.api<{ nodes: { id: string }[] }>('GET', '/v1/nodes?online=true');
    expect(online.body.nodes.map((n) => n.id)).toEqual([nodeId]);
  });

  it('shows a node online in its detail on another replica as soon as its session is claimed, and offline once released', async () => {
    const [a, b] = await fleet(2);
    const { nodeId, identity } = await enrollOn(a!);
    await a!.api('POST', `/v1/nodes/${nodeId}/approve`, { body: {} });
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    cleanups.push(() => client.end());
    const claimed = async () =>
      (await client.query('SELECT 1 FROM node_sessions WHERE node_id = $1', [nodeId])).rowCount === 1;
    const detailOnA = async () =>
      (await a!.api<{ online: boolean }>('GET', `/v1/nodes/${nodeId}`)).body.online;
    // A list read on A keeps what other replicas hold for a few seconds; a detail does not wait for it.
    expect((await a!.api('GET', '/v1/nodes')).status).toBe(200);
    expect(await detailOnA()).toBe(false);

    const conn = await connectTo(b!, nodeId, identity);
    await expect.poll(claimed, { timeout: 5000, interval: 20 }).toBe(true);
    expect(await detailOnA()).toBe(true);

    await conn.close();
    await expect.poll(claimed, { timeout: 5000, interval: 20 }).toBe(false);
    expect(await detailOnA()).toBe(false);
  });

  it('runs a command and opens a shell through a replica that does not hold the node', async () => {
    const [a, c] = await fleet(2);
    const { nodeId, identity } = await enrollOn(a!);
    await a!.api('POST', `/v1/nodes/${nodeId}/approve`, { body: {} });
    const conn = await connectTo(c!, nodeId, identity);
    await conn.next('welcome');
    // The claim is written in a batch and other replicas read it from the database.
    await expect
      .poll(async () => (await a!.api<{ online: boolean }>('GET', `/v1/nodes/${nodeId}`)).body.online, {
        timeout: 8000,
      })
      .toBe(true);

    const pending = a!.api<{ ok: boolean; output: string; id: string }>(
      'POST',
      `/v1/nodes/${nodeId}/commands`,
      {
        body: { type: 'cordon' },
      },
    );
    const command = await conn.next('command', () => true, 5000);
    expect(command).toMatchObject({ name: 'cordon', args: {} });
    conn.send({ type: 'result', id: command.id, ok: true, output: 'node/node-1 cordoned' });
    const result = await pending;
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({ ok: true, output: 'node/node-1 cordoned', type: 'cordon' });
    const listed = await c!.api<{ commands: { id: string; ok: boolean }[] }>(
      'GET',
      `/v1/nodes/${nodeId}/commands`,
    );
    expect(listed.body.commands).toEqual([expect.objectContaining({ id: result.body.id, ok: true })]);

    const ops = new WebSocket(`${a!.url.replace('http', 'ws')}/v1/nodes/${nodeId}/shell?cols=90&rows=25`, {
      headers: { authorization: `Bearer ${await a!.tokenFor('ops')}` },
    });
    const frames: Record<string, unknown>[] = [];
    ops.on('message', (d: Buffer) => frames.push(JSON.parse(d.toString()) as Record<string, unknown>));
    await new Promise((r) => ops.once('open', r));
    const open = await conn.next('shell-open', () => true, 5000);
    expect(open).toMatchObject({ cols: 90, rows: 25 });
    // The operator's side is ready once the node confirms the shell (issue 11).
    conn.send({ type: 'shell-opened', sessionId: open.sessionId });
    await expect.poll(() => frames.map((f) => f.type)).toEqual(['ready']);
    ops.send(JSON.stringify({ type: 'input', data: 'uptime\n' }));
    const input = await conn.next('shell-data');
    expect(Buffer.from(input.data, 'base64').toString()).toBe('uptime\n');
    conn.send({
      type: 'shell-data',
      sessionId: open.sessionId,
      data: Buffer.from(' 10:00 up 3 days\r\n').toString('base64'),
    });
    await expect.poll(() => frames.map((f) => f.type)).toEqual(['ready', 'output']);
    conn.send({ type: 'shell-close', sessionId: open.sessionId, reason: 'The shell exited.', exitCode: 0 });
    await new Promise((r) => ops.once('close', r));
    expect(frames.at(-1)).toMatchObject({ type: 'end', reason: 'The shell exited.', exitCode: 0 });
    // The replica that holds the node records the shell; every replica lists it.
    expect(existsSync(`${c!.dir}/recordings/${nodeId}/${open.sessionId}.cast`)).toBe(true);
    const sessions = await a!.api<{ sessions: { id: string; closeReason: string }[] }>(
      'GET',
      `/v1/nodes/${nodeId}/shell-sessions`,
    );
    await expect
      .poll(
        async () =>
          (
            await a!.api<{ sessions: { id: string; closeReason: string | null }[] }>(
              'GET',
              `/v1/nodes/${nodeId}/shell-sessions`,
            )
          ).body.sessions,
      )
      .toEqual([expect.objectContaining({ id: open.sessionId, closeReason: 'The shell exited.' })]);
    void sessions;
  });

  it('refuses the internal shell route without a valid replica token', async () => {
    const [a, c] = await fleet(2);
    const { nodeId, identity } = await enrollOn(a!);
    await connectTo(c!, nodeId, identity);
    const status = (headers: Record<string, string>) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(
          `${c!.url.replace('http', 'ws')}/internal/v1/nodes/${nodeId}/shell?cols=80&rows=24`,
          {
            headers,
          },
        );
        ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.once('open', () => {
          ws.close();
          resolve(101);
        });
      });
    expect(await status({})).toBe(401);
    expect(await status({ authorization: `Bearer ${a!.adminToken}` })).toBe(401);
    expect(await status({ authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.e30.x' })).toBe(401);
  });
});
