/**
 * Remote shells the node must confirm (or refuse) before ops see "ready", backpressure against a
 * browser that does not read, capped recordings, and the list and download of recordings.
 * Real server; simulated nodes; the ops browser a `ws` client or a raw one that never reads.
 */
import { readFileSync, statSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { SimConnection } from '../../scripts/sim/sim-agent.js';
import { FleetAgent } from '../../scripts/sim/fleet-agent.js';
import { rawWebSocket } from '../helpers/raw-websocket.js';
import { FAST_AGENTS, type TestServer, type TestServerOptions, startTestServer } from '../helpers/server.js';
import { type SimNode, connectSim, enrollSimNode, until, within } from '../helpers/sim-nodes.js';

const MiB = 1024 * 1024;
const servers: TestServer[] = [];
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function setup(options: TestServerOptions = {}) {
  const server = await startTestServer({ control: FAST_AGENTS, ...options });
  servers.push(server);
  const owner = await server.createOwner();
  const node = await enrollSimNode(server, owner.id, { approve: true });
  const ops = await server.tokenFor('ops');
  return { server, node, ops, repos: server.app.homenode.context.repos };
}

interface Browser {
  ws: WebSocket;
  frames: { type: string; reason?: string; data?: string; sessionId?: string }[];
  output: () => number;
  closed: Promise<void>;
}

function openBrowser(server: TestServer, nodeId: string, token: string): Promise<Browser> {
  const ws = new WebSocket(`${server.url.replace('http', 'ws')}/v1/nodes/${nodeId}/shell`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const frames: Browser['frames'] = [];
  let bytes = 0;
  ws.on('message', (d: Buffer) => {
    const frame = JSON.parse(d.toString()) as Browser['frames'][number];
    frames.push(frame);
    if (frame.type === 'output' && frame.data) bytes += Buffer.from(frame.data, 'base64').length;
  });
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
  return new Promise((resolve) =>
    ws.once('open', () => resolve({ ws, frames, output: () => bytes, closed })),
  );
}

/** Output frames of 36 KiB (the agent's chunk) until `total` bytes, never queueing more than 1 MiB here. */
async function sendOutput(conn: SimConnection, sessionId: string, total: number, stop = () => false) {
  const chunk = Buffer.alloc(36 * 1024, 'y').toString('base64');
  for (let sent = 0; sent < total && !stop(); sent += 36 * 1024) {
    while (conn.socket.bufferedAmount > MiB) await new Promise((r) => setTimeout(r, 2));
    conn.send({ type: 'shell-data', sessionId, data: chunk });
  }
}

async function openedShell(conn: SimConnection) {
  const open = await conn.next('shell-open');
  conn.send({ type: 'shell-opened', sessionId: open.sessionId });
  return open.sessionId;
}

async function ended(server: TestServer, node: SimNode, sessionId: string) {
  await expect
    .poll(async () => {
      const res = await server.api<{ sessions: { id: string; closedAt: string | null }[] }>(
        'GET',
        `/v1/nodes/${node.nodeId}/shell-sessions`,
      );
      return res.body.sessions.find((s) => s.id === sessionId)?.closedAt ?? null;
    })
    .not.toBeNull();
}

describe('opening a shell', () => {
  it('says "ready" only once the node confirms; a node that never answers is reported after the timeout', async () => {
    const { server, node, ops } = await setup({ shell: { openTimeoutMs: 1000 } });
    const conn = await connectSim(server, node);
    const browser = await openBrowser(server, node.nodeId, ops);
    const open = await conn.next('shell-open');
    await within(browser.closed, 5000, 'the terminal closing');
    expect(browser.frames).toEqual([
      {
        type: 'end',
        reason:
          'The machine did not open a shell within 1 s: its agent did not confirm the request. The machine may be busy, or run an agent too old for remote shells; try again, or collect its diagnostics.',
      },
    ]);
    expect(await conn.next('shell-close')).toMatchObject({ sessionId: open.sessionId });

    const confirmed = await openBrowser(server, node.nodeId, ops);
    const sessionId = await openedShell(conn);
    await until(() => confirmed.frames.length > 0, 5000, 'ready');
    expect(confirmed.frames[0]).toEqual({ type: 'ready', sessionId });
    confirmed.ws.close();
    await conn.close();
  });

  it("shows the demo's simulated machine refusing the shell, with its reason, never 'ready'", async () => {
    const { server, node, ops } = await setup();
    const agent = new FleetAgent({ url: server.url, nodeId: node.nodeId, identity: node.identity });
    stops.push(() => agent.stop());
    agent.start();
    await until(() => agent.connected && agent.status !== undefined, 5000, 'the simulated node');
    await expect.poll(() => server.app.homenode.context.hub.shellEnabled(node.nodeId)).toBe(true);
    const browser = await openBrowser(server, node.nodeId, ops);
    await within(browser.closed, 5000, 'the terminal closing');
    expect(browser.frames).toEqual([
      {
        type: 'end',
        reason: 'This is a simulated machine (the demo or a benchmark): it has no shell to open.',
      },
    ]);
  });
});

describe('recordings', () => {
  it('lists sessions with who, when, bytes and a download link; ops download the asciicast', async () => {
    const { server, node, ops, repos } = await setup();
    const conn = await connectSim(server, node);
    const browser = await openBrowser(server, node.nodeId, ops);
    const sessionId = await openedShell(conn);
    conn.send({ type: 'shell-data', sessionId, data: Buffer.from('hello\r\n').toString('base64') });
    await until(() => browser.output() > 0, 5000, 'output');
    browser.ws.send(JSON.stringify({ type: 'close' }));
    await ended(server, node, sessionId);
    const list = await server.api<{ sessions: Record<string, unknown>[] }>(
      'GET',
      `/v1/nodes/${node.nodeId}/shell-sessions`,
    );
    const recordingUrl = `/v1/nodes/${node.nodeId}/shell-sessions/${sessionId}/recording`;
    expect(list.body.sessions).toEqual([
      expect.objectContaining({
        id: sessionId,
        openedBy: expect.stringMatching(/^tok_/),
        closeReason: 'Closed by the operator.',
        bytesOut: 7,
        recordedBytes: expect.any(Number),
        recordingTruncated: false,
        recordingUrl,
      }),
    ]);
    const res = await fetch(server.url + recordingUrl, { headers: { authorization: `Bearer ${ops}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-asciicast');
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="${sessionId}.cast"`);
    const lines = (await res.text()).trim().split('\n');
    expect(Buffer.byteLength(lines.join('\n')) + 1).toBe(list.body.sessions[0]?.recordedBytes);
    expect(JSON.parse(lines[0]!)).toMatchObject({ version: 2, width: 80, height: 24 });
    expect(JSON.parse(lines[1]!)).toEqual([expect.any(Number), 'o', 'hello\r\n']);
    const reviewer = await server.tokenFor('reviewer');
    expect((await server.api('GET', recordingUrl, { token: reviewer })).status).toBe(403);
    const other = await enrollSimNode(server, (await server.createOwner()).id);
    expect(
      (await server.api('GET', `/v1/nodes/${other.nodeId}/shell-sessions/${sessionId}/recording`)).status,
    ).toBe(404);
    const audit = await repos.activity.list({ targetId: node.nodeId, limit: 20 });
    expect(audit.map((e) => e.action)).toContain('shell.recording_downloaded');
    await conn.close();
  });

  it('stops a recording at its cap with a marker line (the session goes on), and caps a node per day', async () => {
    const { server, node, ops, repos } = await setup({
      shell: { recordingMaxBytes: 1 * MiB, recordingMaxBytesPerNodeDay: 1.5 * MiB },
    });
    const conn = await connectSim(server, node);
    const files: string[] = [];
    for (const round of [1, 2]) {
      const browser = await openBrowser(server, node.nodeId, ops);
      const sessionId = await openedShell(conn);
      await sendOutput(conn, sessionId, 3 * MiB);
      await until(() => browser.output() >= 3 * MiB - 36 * 1024, 20_000, `all output of session ${round}`);
      browser.ws.send(JSON.stringify({ type: 'close' }));
      await ended(server, node, sessionId);
      files.push(`${server.dir}/recordings/${node.nodeId}/${sessionId}.cast`);
    }
    const [first, second] = files.map((f) => ({
      size: statSync(f).size,
      last: readFileSync(f, 'utf8').trim().split('\n').at(-1) ?? '',
    }));
    expect(first!.size).toBeLessThanOrEqual(1 * MiB + 300);
    expect(first!.last).toContain('the recording stops here: it reached the limit of 1 MiB per session');
    expect(second!.size).toBeLessThanOrEqual(0.5 * MiB + 300);
    expect(second!.last).toContain("it reached this machine's limit of 1.5 MiB of recordings in 24 hours");
    const list = await server.api<{ sessions: { recordingTruncated: boolean; bytesOut: number }[] }>(
      'GET',
      `/v1/nodes/${node.nodeId}/shell-sessions`,
    );
    expect(list.body.sessions.map((s) => [s.recordingTruncated, s.bytesOut >= 3 * MiB - 36 * 1024])).toEqual([
      [true, true],
      [true, true],
    ]);
    const audit = await repos.activity.list({
      targetId: node.nodeId,
      action: 'shell.recording_truncated',
      limit: 10,
    });
    expect(audit).toHaveLength(2);
    await conn.close();
  });
});

describe('backpressure against a browser that does not read', () => {
  it('tells the node to pause above the high-water mark and to resume once the browser catches up', async () => {
    const { server, node, ops } = await setup();
    const conn = await connectSim(server, node);
    const browser = await rawWebSocket(
      server.url,
      `/v1/nodes/${node.nodeId}/shell`,
      { authorization: `Bearer ${ops}` },
      { read: false },
    );
    const sessionId = await openedShell(conn);
    let paused = false;
    void conn.next('shell-pause', undefined, 30_000).then(() => (paused = true));
    await sendOutput(conn, sessionId, 64 * MiB, () => paused);
    expect(paused).toBe(true);
    browser.socket.resume();
    expect(await conn.next('shell-resume', undefined, 10_000)).toEqual({ type: 'shell-resume', sessionId });
    browser.socket.destroy();
    await conn.close();
  });

  it('closes the shell of a node that does not pause: server memory and the recording stay bounded', async () => {
    const { server, node, ops } = await setup({ shell: { recordingMaxBytes: 1 * MiB } });
    const conn = await connectSim(server, node);
    const browser = await rawWebSocket(
      server.url,
      `/v1/nodes/${node.nodeId}/shell`,
      { authorization: `Bearer ${ops}` },
      { read: false },
    );
    const sessionId = await openedShell(conn);
    let closedByServer = false;
    void conn.next('shell-close', undefined, 120_000).then(() => (closedByServer = true));
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    await sendOutput(conn, sessionId, 200 * MiB, () => closedByServer);
    clearInterval(sampler);
    expect(closedByServer).toBe(true);
    // The browser's socket is cut on the server (a reader that never reads never finishes a close):
    // only the node's control connection is left.
    await expect.poll(() => server.app.websocketServer.clients.size, { timeout: 5000 }).toBe(1);
    await ended(server, node, sessionId);
    const list = await server.api<{ sessions: { closeReason: string; bytesOut: number }[] }>(
      'GET',
      `/v1/nodes/${node.nodeId}/shell-sessions`,
    );
    expect(list.body.sessions[0]?.closeReason).toMatch(
      /^The shell was closed: the machine sent output faster than this terminal could take it \(\d+ MiB waiting\) and did not pause when asked\./,
    );
    // The server held at most its drop limit (8 MiB) plus what the kernel buffers, not 200 MiB.
    expect(list.body.sessions[0]?.bytesOut).toBeLessThan(40 * MiB);
    expect(peak - rssBefore).toBeLessThan(120 * MiB);
    const cast = `${server.dir}/recordings/${node.nodeId}/${sessionId}.cast`;
    expect(statSync(cast).size).toBeLessThanOrEqual(1 * MiB + 300);
    browser.socket.destroy();
    await conn.close();
  });
});
