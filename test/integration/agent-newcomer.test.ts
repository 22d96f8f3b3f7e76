/**
 * What a newcomer following the README hit on the agent: `run` on a machine that fails its checks
 * says what failed and how to go on; `--facts` works for `run` and `enroll` and `--help` says so;
 * `status` shows the status the daemon last heard from the server, and when, not the one recorded
 * at enrollment.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer } from '../helpers/server.js';
import { type DaemonSetup, setupDaemon } from './agent-daemon-support.js';
import {
  FACTS,
  STANDINS,
  fastRetryConfig,
  runAgent,
  standInPath,
  startAgent,
  tempDir,
} from './agent-support.js';

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
});

const poll = { timeout: 20_000, interval: 50 };

// Several real processes per test: a generous timeout for a loaded machine.
describe('run on a machine that fails a check', { timeout: 90_000 }, () => {
  it('names the failed checks, says nothing was sent, and how to see the table or use --facts', async () => {
    const server = await startTestServer();
    cleanup.push(() => server.close());
    const dir = tempDir();
    const run = await runAgent([
      'run',
      '--server',
      server.url,
      '--state-dir',
      dir,
      '--facts',
      join(FACTS, 'small-memory-disk.json'),
      '--key',
      'HN-0000-0000-0000-0000-0000',
    ]);
    expect(run.code).toBe(1);
    const flat = run.stdout.replace(/\s+/g, ' ');
    expect(flat).toContain('[FAIL] memory');
    expect(flat).toContain('Enrollment stopped: 2 checks failed (memory, disk).');
    expect(flat).toContain('Nothing was sent to the server and no key was used.');
    expect(flat).toContain('To see the checks again: npm run agent -- preflight (--json for every detail).');
    expect(flat).toContain('assess a recorded one with --facts FILE (run, enroll and preflight take it)');
    expect(readdirSync(dir).sort()).toEqual(['preflight.json']);
    expect((await server.api<{ nodes: unknown[] }>('GET', '/v1/nodes')).body.nodes).toEqual([]);
  });
});

// Several real processes per test: a generous timeout for a loaded machine.
describe('--facts for run and enroll', { timeout: 90_000 }, () => {
  it('is documented in --help under run and enroll', async () => {
    const help = await runAgent(['--help']);
    const run = help.stdout.slice(help.stdout.indexOf('  run '), help.stdout.indexOf('  preflight '));
    const enroll = help.stdout.slice(help.stdout.indexOf('  enroll '), help.stdout.indexOf('  status '));
    expect(run).toContain('--facts FILE');
    expect(run).toContain('test/fixtures/agent/facts/rtx4090.json');
    expect(enroll).toContain('--facts FILE');
    expect(help.stdout).toContain('--allow-insecure-http');
  });

  it('run --facts enrolls the recorded machine (its GPU, not this one) and goes on as the daemon', async () => {
    const server = await startTestServer();
    cleanup.push(() => server.close());
    const owner = await server.createOwner();
    const { key } = await server.createKey(owner.id);
    const dir = tempDir();
    const facts = JSON.parse(readFileSync(join(FACTS, 'rtx4090.json'), 'utf8')) as {
      hardware: { gpus: { uuid: string }[] };
    };
    const agent = startAgent(
      [
        'run',
        '--server',
        server.url,
        '--state-dir',
        dir,
        '--config',
        fastRetryConfig(dir),
        '--facts',
        join(FACTS, 'rtx4090.json'),
      ],
      { env: { HOMENODE_KEY: key }, path: standInPath(STANDINS.nogpu) },
    );
    cleanup.push(async () => {
      agent.kill('SIGTERM');
      await agent.done;
    });
    await agent.waitFor('Status: pending');
    const { nodeId } = JSON.parse(readFileSync(join(dir, 'node.json'), 'utf8')) as { nodeId: string };
    type Detail = { online: boolean; hardware: { gpus: { uuid: string }[] } };
    const expected = facts.hardware.gpus.map((g) => g.uuid);
    expect(
      (await server.api<Detail>('GET', `/v1/nodes/${nodeId}`)).body.hardware.gpus.map((g) => g.uuid),
    ).toEqual(expected);
    // The daemon's session sends its hardware snapshot right behind hello: it too is the recorded
    // machine's, so the node keeps its GPU once the session is live (CI saw it replaced by this one's).
    for (let i = 0; i < 200 && !(await server.api<Detail>('GET', `/v1/nodes/${nodeId}`)).body.online; i++)
      await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 1000));
    const detail = await server.api<Detail>('GET', `/v1/nodes/${nodeId}`);
    expect(detail.body.online).toBe(true);
    expect(detail.body.hardware.gpus.map((g) => g.uuid)).toEqual(expected);
  });
});

describe('status after the daemon has talked to the server', () => {
  let s: DaemonSetup;
  afterEach(() => s?.cleanup());

  // Several agent processes in a row: a generous timeout for a loaded machine.
  it('shows the live status and when it was learned, written atomically at 0600', async () => {
    s = await setupDaemon();
    const before = await runAgent(['status', '--state-dir', s.stateDir]);
    expect(before.stdout.replace(/\s+/g, ' ')).toMatch(
      /Status: pending \(as recorded at enrollment, \S+; the agent has not heard from the server since/,
    );

    const agent = s.start();
    await agent.waitFor('Status: pending', 20_000);
    const approvedAt = Date.now();
    await s.server.api('POST', `/v1/nodes/${s.nodeId}/approve`, { body: {} });
    await expect.poll(async () => (await s.node()).status, poll).toBe('active');
    await agent.waitFor('Status: active', 20_000);

    const file = join(s.stateDir, 'live-status.json');
    const recorded = () => (existsSync(file) ? readFileSync(file, 'utf8') : '');
    await expect.poll(recorded, poll).toContain('"status": "active"');
    const json = JSON.parse((await runAgent(['status', '--json', '--state-dir', s.stateDir])).stdout) as {
      statusLearnedAt: string;
    };
    expect(json).toMatchObject({
      status: 'active',
      statusSource: 'server',
      statusReason: null,
      enrolled: true,
    });
    expect(Date.parse(json.statusLearnedAt)).toBeGreaterThanOrEqual(approvedAt - 1000);
    expect(Date.parse(json.statusLearnedAt)).toBeLessThanOrEqual(Date.now());
    const text = await runAgent(['status', '--state-dir', s.stateDir]);
    expect(text.stdout).toContain(`Status:     active (as the server said at ${json.statusLearnedAt})`);

    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({
      nodeId: s.nodeId,
      status: 'active',
      reason: null,
      learnedAt: json.statusLearnedAt,
    });
    expect(readdirSync(s.stateDir).filter((f) => f.endsWith('.tmp'))).toEqual([]);

    // It stays what the server last said after the daemon stops; reset forgets it.
    agent.kill('SIGTERM');
    expect((await agent.done).code).toBe(0);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ status: 'active' });
    const reset = await runAgent(['reset', '--yes', '--state-dir', s.stateDir]);
    expect(reset.stdout).toContain(file);
    expect(existsSync(file)).toBe(false);
  }, 90_000);
});
