/**
 * The real agent enrolling against the real server on loopback: success, the typo, an expired key,
 * a server that drops connections or asks to slow down, a crash mid-way, and an answer lost after
 * the server committed.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { formatInstallationKey, normalizeKeyInput } from '../../protocol/key.js';
import { manualClock, startTestServer, type TestServer } from '../helpers/server.js';
import {
  FACTS,
  fastRetryConfig,
  freePort,
  runAgent,
  startAgent,
  startProxy,
  tempDir,
  type ProxyRule,
} from './agent-support.js';

const RTX4090 = join(FACTS, 'rtx4090.json');
const forward: ProxyRule = () => ({ action: 'forward' });

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
});

async function setup(options: { now?: () => number } = {}) {
  const server: TestServer = await startTestServer(options);
  cleanup.push(() => server.close());
  const owner = await server.createOwner();
  const { key } = await server.createKey(owner.id);
  const dir = tempDir();
  return { server, owner, key, dir, config: fastRetryConfig(dir) };
}

async function proxy(target: string, rule: ProxyRule, port?: number) {
  const p = await startProxy(target, rule, port);
  cleanup.push(() => p.close());
  return p;
}

/** The same key with one symbol changed (the check symbol then no longer matches). */
function withTypo(key: string): string {
  const body = normalizeKeyInput(key);
  const wrong = body[6] === '7' ? '8' : '7';
  const typo = body.slice(0, 6) + wrong + body.slice(7);
  return `HN-${typo.match(/.{4}/g)?.join('-')}`;
}

function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}

describe('agent enroll', () => {
  it('enrolls: identity at 0600 before sending, node recorded, server sees the same node', async () => {
    const { server, key, dir, config } = await setup();
    const run = await runAgent([
      'enroll',
      '--server',
      server.url,
      '--state-dir',
      dir,
      '--config',
      config,
      '--facts',
      RTX4090,
      '--key',
      key,
    ]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('Enrolled: waiting for approval');
    const node = readJson(join(dir, 'node.json'));
    expect(run.stdout).toContain(`Node id:  ${String(node.nodeId)}`);
    expect(statSync(join(dir, 'identity.json')).mode & 0o777).toBe(0o600);
    expect(existsSync(join(dir, 'enrollment-pending.json'))).toBe(false);
    const detail = await server.api<{ status: string; fingerprint?: string }>(
      'GET',
      `/v1/nodes/${String(node.nodeId)}`,
    );
    expect(detail.status).toBe(200);
    expect(detail.body).toMatchObject({ status: 'pending', fingerprint: node.fingerprint });
    // status reads what was recorded
    const status = await runAgent(['status', '--json', '--state-dir', dir]);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      enrolled: true,
      nodeId: node.nodeId,
      status: 'pending',
      serverUrl: server.url,
    });
    expect((await runAgent(['status', '--state-dir', dir])).stdout).toMatch(
      /Preflight: .*9 passed, 0 warnings, 0 failed/,
    );
  });

  it('takes the key from HOMENODE_KEY for unattended installs, then runs the daemon', async () => {
    const { server, key, dir, config } = await setup();
    const agent = startAgent(
      ['run', '--server', server.url, '--state-dir', dir, '--config', config, '--facts', RTX4090],
      {
        env: { HOMENODE_KEY: key.toLowerCase() },
      },
    );
    await agent.waitFor('Enrolled: waiting for approval');
    // `run` goes on as the daemon once enrolled: connected, status shown, stopped cleanly by SIGTERM.
    await agent.waitFor('Status: pending');
    agent.kill('SIGTERM');
    const run = await agent.done;
    expect(run.code, run.stdout + run.stderr).toBe(0);
  });

  it('catches a typo before any request, then the right key still works', async () => {
    const { server, key, dir, config } = await setup();
    const p = await proxy(server.url, forward);
    const typo = await runAgent([
      'enroll',
      '--server',
      p.url,
      '--state-dir',
      dir,
      '--config',
      config,
      '--facts',
      RTX4090,
      '--key',
      withTypo(key),
    ]);
    expect(typo.code).toBe(3);
    expect(typo.stdout).toMatch(/typo.*Re-check the characters/s);
    expect(typo.stdout).toContain('Nothing was sent to the server.');
    expect(p.enrollRequests()).toHaveLength(0);
    const good = await runAgent([
      'enroll',
      '--server',
      p.url,
      '--state-dir',
      dir,
      '--config',
      config,
      '--facts',
      RTX4090,
      '--key',
      key,
    ]);
    expect(good.code, good.stdout).toBe(0);
    expect(p.enrollRequests().map((r) => r.outcome)).toEqual([201]);
  });

  it('explains an expired key and what to do, exit 3, and keeps nothing pending', async () => {
    // The key is made 8 days ago on the server's clock, which then comes back to now (so the
    // node's clock check still passes).
    const clock = manualClock(Date.now() - 8 * 24 * 3600_000);
    const { server, key, dir, config } = await setup({ now: clock.now });
    clock.set(Date.now());
    const run = await runAgent([
      'enroll',
      '--server',
      server.url,
      '--state-dir',
      dir,
      '--config',
      config,
      '--facts',
      RTX4090,
      '--key',
      key,
    ]);
    expect(run.code).toBe(3);
    expect(run.stdout).toContain('This installation key has expired');
    expect(run.stdout).toMatch(/Generate a new installation key on the Home Node/);
    expect(run.stdout).toContain('KEY_EXPIRED');
    expect(existsSync(join(dir, 'enrollment-pending.json'))).toBe(false);
    expect(existsSync(join(dir, 'node.json'))).toBe(false);
  });

  it('refuses a well-formed key the server does not know (exit 3) without retrying it', async () => {
    const { server, dir, config } = await setup();
    const p = await proxy(server.url, forward);
    const unknown = formatInstallationKey('ZZZZ', '000000000000000');
    const run = await runAgent([
      'enroll',
      '--server',
      p.url,
      '--state-dir',
      dir,
      '--config',
      config,
      '--facts',
      RTX4090,
      '--key',
      unknown,
    ]);
    expect(run.code).toBe(3);
    expect(run.stdout).toContain('The server does not recognise this key');
    expect(p.enrollRequests()).toHaveLength(1);
  });

  it('does not send anything when a check fails on the node (exit 1)', async () => {
    const { server, key, dir, config } = await setup();
    const p = await proxy(server.url, forward);
    const run = await runAgent([
      'enroll',
      '--server',
      p.url,
      '--state-dir',
      dir,
      '--config',
      config,
      '--facts',
      join(FACTS, 'no-gpu.json'),
      '--key',
      key,
    ]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/\[FAIL\] gpu/);
    expect(p.enrollRequests()).toHaveLength(0);
  });
});

describe('agent enroll on a flaky network', () => {
  it('retries while the server drops connections, with a visible countdown, then enrolls', async () => {
    const { server, key, dir, config } = await setup();
    const p = await proxy(server.url, ({ path, index }) =>
      path === '/v1/enroll' && index < 2 ? { action: 'reset' } : { action: 'forward' },
    );
    const run = await runAgent([
      'enroll',
      '--server',
      p.url,
      '--state-dir',
      dir,
      '--config',
      config,
      '--facts',
      RTX4090,
      '--key',
      key,
    ]);
    expect(run.code, run.stdout).toBe(0);
    expect(run.stdout).toContain('Could not enroll yet: the connection was cut.');
    expect(run.stdout).toMatch(/Retrying in \d+ s \(attempt 2 of 8\)/);
    expect(p.enrollRequests().map((r) => r.outcome)).toEqual(['reset', 'reset', 201]);
  });

  it('honours Retry-After on 429 and never retries blindly faster', async () => {
    const { server, key, dir, config } = await setup();
    const p = await proxy(server.url, ({ path, index }) =>
      path === '/v1/enroll' && index === 0
        ? {
            action: 'respond',
            status: 429,
            headers: { 'retry-after': '2', 'content-type': 'application/json' },
            body: '{"error":{"code":"RATE_LIMITED","message":"slow down"}}',
          }
        : { action: 'forward' },
    );
    const run = await runAgent([
      'enroll',
      '--server',
      p.url,
      '--state-dir',
      dir,
      '--config',
      config,
      '--facts',
      RTX4090,
      '--key',
      key,
    ]);
    expect(run.code, run.stdout).toBe(0);
    expect(run.stdout).toContain('the server asked us to slow down');
    const [first, second] = p.enrollRequests();
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(1900);
  });

  it('survives a crash mid-enrollment while the server is down, and finishes with the same key and identity once it is up', async () => {
    const { server, key, dir, config } = await setup();
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    // Policy and checks pass through a first proxy; the enroll request goes nowhere (server down).
    const front = await proxy(
      server.url,
      ({ path }) => (path === '/v1/enroll' ? { action: 'reset' } : { action: 'forward' }),
      port,
    );
    const agent = startAgent([
      'enroll',
      '--server',
      url,
      '--state-dir',
      dir,
      '--config',
      config,
      '--facts',
      RTX4090,
      '--key',
      key,
    ]);
    await agent.waitFor('Could not enroll yet');
    agent.kill('SIGKILL');
    expect((await agent.done).signal).toBe('SIGKILL');
    await front.close();
    const pending = readJson(join(dir, 'enrollment-pending.json')) as {
      request: { installationKey: string; publicKey: unknown };
    };
    const identity = readJson(join(dir, 'identity.json')) as { publicKey: unknown };
    expect(pending.request.installationKey).toBe(key);
    expect(pending.request.publicKey).toEqual(identity.publicKey);

    // Restart with no key at all while the server is still down; bring it up during the countdown.
    const resumed = startAgent(['run', '--server', url, '--state-dir', dir, '--config', config]);
    await resumed.waitFor('Could not enroll yet: the server refused the connection.');
    const back = await proxy(server.url, forward, port);
    await resumed.waitFor('Enrolled: waiting for approval');
    await resumed.waitFor(/Home Node agent \S+ started for node/);
    resumed.kill('SIGTERM');
    const result = await resumed.done;
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).toContain('Finishing the enrollment started at');
    expect(back.enrollRequests().map((r) => r.outcome)).toEqual([201]);
    expect(readJson(join(dir, 'identity.json')).publicKey).toEqual(identity.publicKey);
    expect(existsSync(join(dir, 'enrollment-pending.json'))).toBe(false);
  });

  it('gets its node back (200, existing) when the answer is lost after the server committed, without burning the key', async () => {
    const { server, owner, key, dir, config } = await setup();
    const p = await proxy(server.url, ({ path, index }) =>
      path === '/v1/enroll' && index === 0 ? { action: 'drop-after-server' } : { action: 'forward' },
    );
    const run = await runAgent([
      'enroll',
      '--server',
      p.url,
      '--state-dir',
      dir,
      '--config',
      config,
      '--facts',
      RTX4090,
      '--key',
      key,
    ]);
    expect(run.code, run.stdout).toBe(0);
    expect(p.enrollRequests().map((r) => r.outcome)).toEqual(['dropped-after-server', 200]);
    const node = readJson(join(dir, 'node.json'));
    expect(node).toMatchObject({ status: 'pending', existing: true });
    const nodes = await server.api<{ nodes: { id: string; ownerId: string }[] }>('GET', `/v1/nodes`);
    expect(nodes.body.nodes.filter((n) => n.ownerId === owner.id).map((n) => n.id)).toEqual([node.nodeId]);
  });
});
