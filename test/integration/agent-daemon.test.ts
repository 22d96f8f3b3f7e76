/**
 * The real agent daemon (`run` once enrolled) against the real server over real WebSockets, with
 * stand-ins for wg, wg-quick, systemctl, k3s and nvidia-smi first on PATH and short intervals.
 */
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { FAST_AGENTS, startTestServer } from '../helpers/server.js';
import { signPayload } from '../../agent/usage/usage-meter.js';
import { createUsageSpool } from '../../agent/usage/usage-spool.js';
import { type DaemonSetup, setupDaemon, startAckDroppingRelay } from './agent-daemon-support.js';

let setups: DaemonSetup[] = [];
let extra: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of extra.reverse()) await fn();
  for (const s of setups) await s.cleanup();
  setups = [];
  extra = [];
});

async function setup(options: Parameters<typeof setupDaemon>[0] = {}) {
  const s = await setupDaemon(options);
  setups.push(s);
  return s;
}

/** Generous: these run beside other suites on small, busy machines (timing goals are benchmarks'). */
const poll = { timeout: 20_000, interval: 50 };
// Each test runs the real agent (often twice) and a join spawns a dozen stand-ins: 90 s on a loaded machine.
const LEASE =
  'akash1q7spxfj3ps6lx4qk2xlqjkxr3wpjyjmk4ap0vn/18744213/1/1/akash1homenodeprovider0000000000000000000000';
const spooled = (s: DaemonSetup) =>
  existsSync(s.paths.spoolDir)
    ? readdirSync(s.paths.spoolDir).filter((f) => /^usage-\d+\.json$/.test(f))
    : [];

async function approveAndJoin(s: DaemonSetup) {
  await s.server.api('POST', `/v1/nodes/${s.nodeId}/approve`, { body: {} });
  await expect.poll(async () => (await s.node()).status, poll).toBe('active');
}

describe('agent daemon: presence and status', { timeout: 90_000 }, () => {
  it('is online within seconds of run and sends heartbeat metrics with nvidia-smi figures', async () => {
    const s = await setup();
    const started = Date.now();
    const agent = s.start();
    await expect.poll(async () => (await s.node()).online, poll).toBe(true);
    const onlineAfterMs = Date.now() - started;
    expect(onlineAfterMs).toBeLessThan(15_000);
    await agent.waitFor('Status: pending', 20_000);
    await expect
      .poll(async () => (await s.node()).metrics, poll)
      .toMatchObject({
        memTotalBytes: expect.any(Number),
        uptimeSeconds: expect.any(Number),
        gpus: [
          {
            index: 0,
            uuid: 'GPU-5a7f3e7c-1b2d-4c9e-8f0a-6d3b2e1c4a90',
            utilizationPct: 37,
            temperatureC: 41,
            memoryUsedBytes: 1834 * 1024 * 1024,
            memoryTotalBytes: 24564 * 1024 * 1024,
            powerW: 68.52,
          },
        ],
      });
    expect(readFileSync(s.paths.logFile, 'utf8')).toMatch(
      /info {2}control_connected Connected to the server\./,
    );
  });

  it('joins once approved: WireGuard key and config at 0600, wg-quick up, k3s config with labels, active; a restart re-checks without new keys', async () => {
    const s = await setup();
    const agent = s.start();
    await agent.waitFor('Status: pending', 20_000);
    await approveAndJoin(s);
    await agent.waitFor('Status: active', 20_000);
    const wgConf = join(s.paths.wireguardDir, 'hn0.conf');
    expect(statSync(wgConf).mode & 0o777).toBe(0o600);
    expect(statSync(join(s.paths.wireguardDir, 'hn0.key')).mode & 0o777).toBe(0o600);
    expect(statSync(s.paths.k3sConfigPath).mode & 0o777).toBe(0o600);
    expect(readFileSync(wgConf, 'utf8')).toMatch(
      /Address = 100\.64\.0\.\d+\/32[\s\S]*AllowedIPs = 100\.64\.0\.0\/10/,
    );
    const k3s = readFileSync(s.paths.k3sConfigPath, 'utf8');
    expect(k3s).toContain('server: "https://100.64.0.1:6443"');
    expect(k3s).toContain(`node-name: "${s.nodeId.replace(/_/g, '-')}"`);
    expect(k3s).toContain('flannel-iface: "hn0"');
    expect(k3s).toContain('  - "akash.network/capabilities.gpu.vendor.nvidia.model.rtx4090=1"');
    const calls = s.calls().filter((c) => /^(wg|wg-quick|systemctl) /.test(c));
    expect(calls).toEqual([
      'wg genkey',
      'wg pubkey',
      'wg show hn0',
      `wg-quick up ${wgConf}`,
      'systemctl daemon-reload',
      'systemctl is-active --quiet k3s-agent',
      'systemctl enable --now k3s-agent',
    ]);
    // systemd ran the unit the join wrote: the installed k3s as an agent with the join's config.
    expect(s.calls()).toContain(`k3s agent --config ${s.paths.k3sConfigPath}`);
    const peers = await s.server.api<{ peers: { nodeId: string; publicKey: string }[] }>(
      'GET',
      '/v1/wireguard/peers',
    );
    expect(peers.body.peers).toEqual([
      expect.objectContaining({
        nodeId: s.nodeId,
        publicKey: 'HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=',
      }),
    ]);

    agent.kill('SIGTERM');
    expect((await agent.done).code).toBe(0);
    const again = s.start();
    await again.waitFor(/Joined the cluster \(already set up; checked\)/, 20_000);
    const after = s.calls().filter((c) => /^(wg|wg-quick|systemctl) /.test(c));
    expect(after.filter((c) => c === 'wg genkey')).toHaveLength(1);
    expect(after.filter((c) => c.startsWith('wg-quick up'))).toHaveLength(1);
    expect(after.slice(calls.length)).toEqual([
      'wg pubkey',
      'wg show hn0',
      'systemctl is-active --quiet k3s-agent',
    ]);
  });

  it('comes back online after a server restart, within the backoff bound', async () => {
    const s = await setup();
    const agent = s.start();
    await expect.poll(async () => (await s.node()).online, poll).toBe(true);
    const { port, dbPath } = s.server;
    await s.server.close({ keepFiles: true });
    await agent.waitFor(/Trying again in \d+\.\d s/, 20_000);
    const restarted = await startTestServer({ port, dbPath, control: FAST_AGENTS });
    extra.push(() => restarted.close());
    const upAt = Date.now();
    await expect.poll(async () => (await s.node(s.nodeId, restarted)).online, poll).toBe(true);
    // reconnectMaxMs is 800 in these tests: one full wait after the server is back, plus the
    // handshake and polling on a busy machine (the default 60 s cap would be far over).
    expect(Date.now() - upAt).toBeLessThan(5000);
  });

  it("shows the server's 401 message when the clock is off and keeps retrying with backoff", async () => {
    const s = await setup({ serverNow: () => Date.now() - 10 * 60_000 });
    const agent = s.start();
    await agent.waitFor(
      /This machine's clock is 10 minutes ahead of the server's[\s\S]*attempt 1\)[\s\S]*attempt 2\)/,
      15_000,
    );
    expect((await s.node()).online).toBe(false);
    agent.kill('SIGTERM');
    expect((await agent.done).code).toBe(0);
  });

  it('says bye on SIGTERM: offline at once, exit 0', async () => {
    const s = await setup();
    const agent = s.start();
    await expect.poll(async () => (await s.node()).online, poll).toBe(true);
    const killedAt = Date.now();
    agent.kill('SIGTERM');
    const run = await agent.done;
    expect(run.code, run.stderr).toBe(0);
    expect((await s.node()).online).toBe(false);
    expect(Date.now() - killedAt).toBeLessThan(3000);
    expect(run.stdout).toContain('Said goodbye to the server.');
  });

  it('shows the reason when the node is revoked and stops (exit 7); a new start is refused at once', async () => {
    const s = await setup({ approve: true });
    const agent = s.start();
    await agent.waitFor('Status: active', 20_000);
    await s.server.api('POST', `/v1/nodes/${s.nodeId}/revoke`, {
      body: { reason: 'GPU resold by the owner' },
    });
    const run = await agent.done;
    expect(run.code).toBe(7);
    expect(run.stdout).toMatch(/Status: revoked \(GPU resold by the owner\)/);
    const again = await s.start().done;
    expect(again.code).toBe(7);
    expect(again.stdout).toMatch(/removed by the operations team: GPU resold by the owner.*NODE_REVOKED/);
    expect(again.stdout).not.toContain('Trying again');
  });

  it('goes back to pending when a GPU is added (re-probe), with the difference', async () => {
    const s = await setup({
      approve: true,
      config: { intervals: { hardwareProbeMs: 300, heartbeatMs: 300 } },
    });
    const agent = s.start();
    await agent.waitFor('Status: active', 20_000);
    writeFileSync(
      join(s.dir, 'gpus.csv'),
      [
        '0, NVIDIA GeForce RTX 4090, GPU-5a7f3e7c-1b2d-4c9e-8f0a-6d3b2e1c4a90, 00000000:01:00.0, 0x268410DE, 24564, 550.54.15',
        '1, NVIDIA GeForce RTX 4090, GPU-0c4e2d1a-9b8f-4e7d-a6c5-3b2a1f0e9d87, 00000000:02:00.0, 0x268410DE, 24564, 550.54.15',
        '',
      ].join('\n'),
    );
    await agent.waitFor(
      /Status: pending \(GPUs changed: was 1× nvidia\/rtx4090\/24Gi, now 2× nvidia\/rtx4090\/24Gi/,
      15_000,
    );
    const node = await s.node();
    expect(node.status).toBe('pending');
    expect(node.labels['akash.network/capabilities.gpu.vendor.nvidia.model.rtx4090']).toBe('2');
  });
});

describe('agent daemon: usage reports', { timeout: 90_000 }, () => {
  it('resends unacknowledged reports after a reconnect without storing any twice', async () => {
    const s = await setup({ approve: true });
    const relay = await startAckDroppingRelay(s.server.url);
    extra.push(() => relay.close());
    // The daemon talks to the server through the relay, which swallows every ack.
    s.useUrl(relay.url);
    s.start();
    await expect.poll(async () => (await s.node()).status, poll).toBe('active');
    await expect.poll(async () => (await s.usageRows()).length, poll).toBeGreaterThanOrEqual(2);
    expect(spooled(s).length).toBeGreaterThanOrEqual(2);
    relay.state.dropAcks = false;
    relay.cut();
    await expect.poll(() => spooled(s).length, poll).toBe(0);
    const rows = await s.usageRows();
    const seqs = rows.map((r) => r.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    expect(relay.state.dropped).toBeGreaterThanOrEqual(2);
    expect(rows[0]?.workloads).toEqual([{ leaseId: LEASE, gpus: 1, seconds: expect.any(Number) }]);
  });

  it('delivers reports spooled while the server was down after a SIGKILL and a restart', async () => {
    const s = await setup({ approve: true });
    const first = s.start();
    await first.waitFor('Status: active', 20_000);
    const { port, dbPath } = s.server;
    const before = (await s.usageRows()).length;
    await s.server.close({ keepFiles: true });
    await expect.poll(() => spooled(s).length, poll).toBeGreaterThanOrEqual(2);
    first.kill('SIGKILL');
    await first.done;
    const waiting = spooled(s).map((f) => Number(/\d+/.exec(f)?.[0]));
    const restarted = await startTestServer({ port, dbPath, control: FAST_AGENTS });
    extra.push(() => restarted.close());
    const second = s.start();
    await second.waitFor(/Sending \d+ usage report\(s\) not yet acknowledged/, 20_000);
    await expect
      .poll(async () => (await s.usageRows(restarted)).map((r) => r.seq), poll)
      .toEqual(expect.arrayContaining(waiting));
    expect((await s.usageRows(restarted)).length).toBeGreaterThan(before);
    const seqs = (await s.usageRows(restarted)).map((r) => r.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it('drops a spooled report the server refuses for good (overlapping a stored window) instead of resending it forever', async () => {
    const s = await setup({ approve: true });
    // Two reports spooled before a crash, the second for the same window as the first (a clock
    // step backwards, say): the server stores the first and refuses the second.
    const from = Date.now() - 3 * 3_600_000;
    const window = { from: new Date(from).toISOString(), to: new Date(from + 300_000).toISOString() };
    const spool = createUsageSpool(s.paths.spoolDir);
    for (const seq of [5001, 5002]) {
      const payload = {
        nodeId: s.nodeId,
        seq,
        ...window,
        workloads: [{ leaseId: LEASE, gpus: 1, seconds: 300 }],
      };
      await spool.put({ seq, report: await signPayload(s.identity, payload) });
    }
    const agent = s.start();
    await agent.waitFor(/Usage report 5002 was refused by the server and will not be sent again/, 20_000);
    await expect.poll(() => spooled(s).filter((f) => /500[12]/.test(f)), poll).toEqual([]);
    expect((await s.usageRows()).filter((r) => r.seq > 5000).map((r) => r.seq)).toEqual([5001]);
    expect(readFileSync(s.paths.logFile, 'utf8')).toMatch(
      /The server refused a message \(USAGE_OVERLAP\): Usage report 5002/,
    );
  });
});

describe('agent daemon: remote shell and commands', { timeout: 90_000 }, () => {
  it('runs a remote shell for ops: echo hello, resize, close; recorded as asciicast', async () => {
    const s = await setup({ config: { shellCommand: ['/bin/bash', '--norc', '--noprofile', '-i'] } });
    const agent = s.start();
    await agent.waitFor('Status: pending', 20_000);
    const ops = new WebSocket(
      `${s.server.url.replace('http', 'ws')}/v1/nodes/${s.nodeId}/shell?cols=100&rows=30`,
      {
        headers: { authorization: `Bearer ${await s.server.tokenFor('ops')}` },
      },
    );
    const frames: { type: string; data?: string; sessionId?: string; reason?: string }[] = [];
    let output = '';
    ops.on('message', (d: Buffer) => {
      const frame = JSON.parse(d.toString()) as (typeof frames)[number];
      frames.push(frame);
      if (frame.type === 'output' && frame.data) output += Buffer.from(frame.data, 'base64').toString();
    });
    await new Promise((resolve) => ops.once('open', resolve));
    await expect.poll(() => frames[0]?.type, poll).toBe('ready');
    ops.send(JSON.stringify({ type: 'input', data: 'echo "hel""lo"; stty size\n' }));
    await expect.poll(() => output, poll).toMatch(/\bhello\r?\n30 100/);
    ops.send(JSON.stringify({ type: 'resize', cols: 120, rows: 40 }));
    ops.send(JSON.stringify({ type: 'input', data: 'stty size\n' }));
    await expect.poll(() => output, poll).toMatch(/40 120/);
    ops.send(JSON.stringify({ type: 'close' }));
    await new Promise((resolve) => ops.once('close', resolve));
    expect(frames.at(-1)).toMatchObject({ type: 'end', reason: 'Closed by the operator.' });
    const sessionId = frames[0]?.sessionId ?? '';
    const cast = join(s.server.dir, 'recordings', s.nodeId, `${sessionId}.cast`);
    expect(existsSync(cast)).toBe(true);
    const lines = readFileSync(cast, 'utf8').trim().split('\n');
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ version: 2, width: 100, height: 30 });
    expect(lines.some((l) => l.includes('hello'))).toBe(true);
    await agent.waitFor(/Remote shell sh_\S+ closed by the server/, 20_000);
  });

  it('refuses remote shells when the config turns them off (403 before the upgrade)', async () => {
    const s = await setup({ remoteShell: false });
    const agent = s.start();
    await agent.waitFor('Status: pending', 20_000);
    // The server learns shellEnabled from hello; a heartbeat (sent after it) shows hello was handled.
    await expect.poll(async () => (await s.node()).metrics, poll).not.toBeNull();
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${s.server.url.replace('http', 'ws')}/v1/nodes/${s.nodeId}/shell`, {
        headers: { authorization: `Bearer ${s.server.adminToken}` },
      });
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('open', () => {
        ws.close();
        resolve(101);
      });
    });
    expect(status).toBe(403);
  });

  it('answers ops commands: cordon, drain, diagnostics with findings, preflight, restart (exit 75)', async () => {
    const s = await setup({ approve: true });
    const agent = s.start();
    await agent.waitFor('Status: active', 20_000);
    const command = (type: string, args?: Record<string, unknown>) =>
      s.server.api<{ ok: boolean; output: string | null; error: string | null }>(
        'POST',
        `/v1/nodes/${s.nodeId}/commands`,
        { body: { type, ...(args ? { args } : {}) } },
      );
    const nodeName = s.nodeId.replace(/_/g, '-');
    expect((await command('cordon')).body).toMatchObject({
      ok: true,
      output: expect.stringContaining(`node/${nodeName} cordoned`),
    });
    expect((await command('drain', { timeoutSeconds: 30 })).body).toMatchObject({
      ok: true,
      output: expect.stringContaining(`node/${nodeName} drained`),
    });
    const diagnostics = (await command('collect-diagnostics')).body;
    expect(diagnostics.ok).toBe(true);
    expect(diagnostics.output).toMatch(
      /Findings:\n- dmesg \(last 200 lines\): dmesg --ctime failed \(exit 1\): dmesg: read kernel buffer failed/,
    );
    expect(diagnostics.output).toContain('homenode-agent[812]');
    expect(diagnostics.output).toContain('Product Name                          : NVIDIA GeForce RTX 4090');
    expect(diagnostics.output).toMatch(/control_connected Connected to the server/);
    expect(Buffer.byteLength(diagnostics.output ?? '')).toBeLessThanOrEqual(60 * 1024);
    const preflight = (await command('run-preflight')).body;
    expect(preflight).toMatchObject({
      ok: true,
      output: expect.stringMatching(/gpu\s+1 NVIDIA GPU: rtx4090/),
    });
    expect(s.calls()).toEqual(
      expect.arrayContaining([
        `k3s kubectl cordon ${nodeName}`,
        `k3s kubectl drain ${nodeName} --ignore-daemonsets --delete-emptydir-data --timeout=30s`,
        'journalctl -u homenode-agent -n 300 --no-pager',
        'nvidia-smi -q',
      ]),
    );
    expect((await command('restart-agent')).body).toMatchObject({ ok: true });
    const run = await agent.done;
    expect(run.code).toBe(75);
    await expect.poll(async () => (await s.node()).online, poll).toBe(false);
  });
});
