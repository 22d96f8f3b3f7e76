/** The real agent CLI on this machine, with stand-in nvidia-smi / lspci first on PATH. */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Check } from '../../protocol/hardware.js';
import { manualClock, startTestServer, type TestServer } from '../helpers/server.js';
import { FACTS, STANDINS, runAgent, standInPath, tempDir } from './agent-support.js';

interface PreflightJson {
  checks: Check[];
  facts: { hardware: { gpus: { model: string; driver?: string }[] }; notes?: { program: string }[] };
}

function gpuCheck(json: PreflightJson): Check {
  const check = json.checks.find((c) => c.id === 'gpu');
  if (!check) throw new Error('no gpu check');
  return check;
}

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
});

async function server(options: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
  const s = await startTestServer(options);
  cleanup.push(() => s.close());
  return s;
}

describe('agent preflight on this machine', () => {
  it('passes the gpu check with the stand-in RTX 4090, calling nvidia-smi and lspci as documented', async () => {
    const dir = tempDir();
    const log = join(dir, 'argv.log');
    const run = await runAgent(['preflight', '--json', '--state-dir', dir], {
      path: standInPath(STANDINS.rtx4090),
      env: { HOMENODE_STANDIN_LOG: log },
    });
    const json = JSON.parse(run.stdout) as PreflightJson;
    expect(gpuCheck(json)).toMatchObject({ status: 'pass', summary: '1 NVIDIA GPU: rtx4090' });
    expect(json.facts.hardware.gpus).toEqual([
      expect.objectContaining({ model: 'rtx4090', driver: '550.54.15' }),
    ]);
    expect(readFileSync(log, 'utf8').split('\n').sort()).toEqual([
      '',
      'lspci -nn',
      'nvidia-smi --query-gpu=index,name,uuid,pci.bus_id,pci.device_id,memory.total,driver_version --format=csv,noheader,nounits',
    ]);
    // The last result is kept for `status`.
    expect(existsSync(join(dir, 'preflight.json'))).toBe(true);
  });

  it('fails the gpu check with a fix and exits 1 when neither program exists', async () => {
    const run = await runAgent(['preflight', '--state-dir', tempDir()]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/\[FAIL\] gpu\s+No NVIDIA GPU found/);
    expect(run.stdout).toMatch(/Fix: Check that the NVIDIA card is seated/);
    expect(run.stdout).toMatch(/lspci\s+\(pciutils\) was not\s+found/);
    expect(run.stdout.split('\n').every((line) => line.length <= 80)).toBe(true);
  });

  it('reads a GPU from lspci and says the driver did not load when nvidia-smi cannot reach it', async () => {
    const run = await runAgent(['preflight', '--json', '--state-dir', tempDir()], {
      path: standInPath(STANDINS.nodriver),
    });
    const json = JSON.parse(run.stdout) as PreflightJson;
    // A warning (the machine may still enroll), with the driver's state in the facts, not a note.
    expect(gpuCheck(json)).toMatchObject({
      status: 'warn',
      summary: 'The NVIDIA driver did not load (1 NVIDIA GPU: rtx3090)',
    });
    expect(json.facts.notes).toEqual([]);
  });

  it('names integrated graphics it does not support when no NVIDIA card is present', async () => {
    const run = await runAgent(['preflight', '--json', '--state-dir', tempDir()], {
      path: standInPath(STANDINS.nogpu),
    });
    const json = JSON.parse(run.stdout) as PreflightJson;
    expect(run.code).toBe(1);
    expect(gpuCheck(json).status).toBe('fail');
  });
});

describe('agent preflight --facts', () => {
  it('assesses a recorded machine, exits 0 when nothing failed, and reads its own --json output back', async () => {
    const dir = tempDir();
    const first = await runAgent([
      'preflight',
      '--json',
      '--facts',
      join(FACTS, 'rtx4090.json'),
      '--state-dir',
      dir,
    ]);
    expect(first.code).toBe(0);
    const saved = join(dir, 'report.json');
    writeFileSync(saved, first.stdout);
    const again = await runAgent(['preflight', '--facts', saved, '--state-dir', dir]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('9 passed, 0 warnings, 0 failed.');
    // Assessing someone else's facts does not overwrite this machine's last result.
    expect(existsSync(join(dir, 'preflight.json'))).toBe(false);
  });

  it('exits 1 with the fix for a machine whose LAN overlaps the cluster', async () => {
    const run = await runAgent([
      'preflight',
      '--facts',
      join(FACTS, 'lan-10-42.json'),
      '--state-dir',
      tempDir(),
    ]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/\[FAIL\] private-network/);
    expect(run.stdout).toMatch(/Fix: Change your router's LAN range/);
  });

  it("uses the server's policy when it can reach the server", async () => {
    const s = await server({ policy: { minCores: 32 } });
    const run = await runAgent([
      'preflight',
      '--facts',
      join(FACTS, 'rtx4090.json'),
      '--server',
      s.url,
      '--state-dir',
      tempDir(),
    ]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`Policy: from ${s.url}`);
    expect(run.stdout).toMatch(/at least 32 processor cores/);
  });

  it('refuses a facts file that is not facts, naming the field (exit 2)', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ hardware: { cpu: {} } }));
    const run = await runAgent(['preflight', '--facts', join(dir, 'bad.json'), '--state-dir', dir]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/bad\.json is not valid at \/hardware/);
  });
});

describe('agent preflight against a live server', () => {
  it('checks the clock against the server time and fails when it is 10 minutes off', async () => {
    const clock = manualClock(Date.now() + 10 * 60_000);
    const s = await server({ now: clock.now });
    const run = await runAgent(['preflight', '--json', '--server', s.url, '--state-dir', tempDir()], {
      path: standInPath(STANDINS.rtx4090),
    });
    const json = JSON.parse(run.stdout) as PreflightJson;
    expect(json.checks.find((c) => c.id === 'server')?.status).toBe('pass');
    expect(json.checks.find((c) => c.id === 'clock')).toMatchObject({
      status: 'fail',
      summary: 'The clock is 10 minutes behind the server',
    });
  });

  it('detects and names a captive portal that redirects to its sign-in page', async () => {
    const portal = http.createServer((_req, res) => {
      res.writeHead(302, { location: 'http://login.cafe-wifi.example/welcome' }).end();
    });
    await new Promise<void>((resolve) => portal.listen(0, '127.0.0.1', resolve));
    cleanup.push(() => new Promise((resolve) => portal.close(() => resolve())));
    const url = `http://127.0.0.1:${(portal.address() as AddressInfo).port}`;
    const run = await runAgent(['preflight', '--json', '--server', url, '--state-dir', tempDir()], {
      path: standInPath(STANDINS.rtx4090),
    });
    const server = (JSON.parse(run.stdout) as PreflightJson).checks.find((c) => c.id === 'server');
    expect(run.code).toBe(1);
    expect(server?.summary).toMatch(/captive portal/);
    expect(server?.detail).toContain('http://login.cafe-wifi.example/welcome');
  });
});

describe('agent CLI basics', () => {
  it('prints help with the exit codes, and exits 2 on a usage error', async () => {
    const help = await runAgent(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/1 {2}a preflight check failed/);
    const bad = await runAgent(['preflight', '--key', 'x']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--key does not apply to "preflight"/);
  });

  it('status says not enrolled (exit 6); reset asks for --yes and then removes the state', async () => {
    const dir = tempDir();
    await runAgent(['preflight', '--facts', join(FACTS, 'rtx4090.json'), '--state-dir', dir]);
    const status = await runAgent(['status', '--state-dir', dir]);
    expect(status.code).toBe(6);
    expect(status.stdout).toContain('Status:     not enrolled');
    writeFileSync(join(dir, 'preflight.json'), JSON.stringify({ at: 'then', failed: false, checks: [] }));
    expect((await runAgent(['reset', '--state-dir', dir])).code).toBe(2);
    expect(existsSync(join(dir, 'preflight.json'))).toBe(true);
    const reset = await runAgent(['reset', '--yes', '--state-dir', dir]);
    expect(reset.code).toBe(0);
    expect(existsSync(join(dir, 'preflight.json'))).toBe(false);
  });

  it('stops with a clear message on a damaged state file instead of replacing it', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'identity.json'), '{"version":1,');
    const run = await runAgent(['status', '--state-dir', dir]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/identity\.json is not valid JSON/);
  });
});
