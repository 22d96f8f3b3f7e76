/**
 * `agent audit` as a real process: real fio and sysbench on this machine, stand-in nvidia-smi,
 * dmesg, k3s and systemctl first on PATH, and a real server (its policy makes the run short).
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_CHECK_IDS } from '../../protocol/audit.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { runAgent, tempDir } from './agent-support.js';
import {
  AUDIT_STANDINS,
  FAST_AUDIT_POLICY,
  GPU0,
  GPU1,
  K3S_FIXTURES,
  auditPath,
  barePath,
  calls,
  checkOf,
  enrolledStateDir,
  requireTools,
  writeJoined,
  type AuditJson,
} from './audit-support.js';

const MiB = 1024 * 1024;
let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
});

beforeAll(() => requireTools({ fio: 'fio', sysbench: 'sysbench' }));

async function server(): Promise<TestServer> {
  const s = await startTestServer({ policy: FAST_AUDIT_POLICY });
  cleanup.push(() => s.close());
  return s;
}

async function audit(args: string[], options: { path: string; env?: Record<string, string> }) {
  const run = await runAgent(['audit', '--json', ...args], options);
  let json: AuditJson;
  try {
    json = JSON.parse(run.stdout) as AuditJson;
  } catch {
    throw new Error(`agent audit printed no JSON (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
  }
  return { ...run, json };
}

describe('agent audit on a joined node with a healthy RTX 4090', () => {
  it('measures real figures with fio and sysbench, passes, and measures the network through the server probe', async () => {
    const s = await server();
    const stateDir = await enrolledStateDir(s, { joined: true });
    const log = join(tempDir(), 'argv.log');
    const run = await audit(['--state-dir', stateDir], {
      path: auditPath(AUDIT_STANDINS.rtx4090, AUDIT_STANDINS.k3s),
      env: { HOMENODE_STANDIN_LOG: log },
    });
    expect(run.code, run.stderr).toBe(0);
    const { json } = run;
    expect(json.policySource).toBe('server');
    expect(json.passed).toBe(true);
    expect(json.skipped).toEqual([]);
    expect(json.checks.map((c) => c.id)).toEqual([...AUDIT_CHECK_IDS]);
    expect(json.checks.filter((c) => c.id !== 'network').map((c) => [c.id, c.status])).toEqual(
      AUDIT_CHECK_IDS.filter((id) => id !== 'network').map((id) => [id, 'pass']),
    );
    for (const c of json.checks) expect(c.docUrl).toBe(`${s.url}/docs/troubleshooting#${c.id}`);

    const cpu = checkOf(json, 'cpu').metrics;
    expect(cpu.cpuThreads).toBe(availableParallelism());
    expect(cpu.cpuEventsPerSec).toBeGreaterThan(0);
    // Figures of 100 and more are rounded to whole numbers.
    expect(
      Math.abs((cpu.cpuEventsPerSecPerThread ?? 0) - (cpu.cpuEventsPerSec ?? 0) / availableParallelism()),
    ).toBeLessThanOrEqual(1);
    const memory = checkOf(json, 'memory').metrics;
    expect(memory.memoryWriteMiBps).toBeGreaterThan(100);
    expect(memory.memoryReadMiBps).toBeGreaterThan(100);
    const disk = checkOf(json, 'disk');
    expect(disk.metrics.diskRandReadIops).toBeGreaterThan(0);
    expect(disk.metrics.diskRandWriteIops).toBeGreaterThan(0);
    expect(disk.metrics.diskSeqReadMiBps).toBeGreaterThan(0);
    expect(disk.metrics.diskSeqWriteMiBps).toBeGreaterThan(0);
    expect(disk.metrics.diskFreeBytes).toBeGreaterThan(0);
    // 16 MiB written sequentially, at most 4 MiB randomly: within the 64 MiB the policy allows.
    expect(disk.metrics.diskWrittenBytes).toBeGreaterThanOrEqual(16 * MiB);
    expect(disk.metrics.diskWrittenBytes).toBeLessThanOrEqual(20 * MiB);
    expect(disk.detail).toMatch(
      /^Measured with fio-3\.\d+ on a 16 MiB test file in .* \(direct I\/O\), 1 s per job; the file was removed\.$/,
    );
    const shm = checkOf(json, 'shm').metrics;
    expect(shm.shmSizeBytes).toBeGreaterThan(0);
    expect(shm.shmWriteMiBps).toBeGreaterThan(0);
    expect(checkOf(json, 'gpu')).toMatchObject({
      summary: '1 GPU: NVIDIA GeForce RTX 4090, driver 550.54.15, 38 °C, PCIe gen 4 x16',
      metrics: { gpuCount: 1, gpuHardwareXidErrors: 0 },
    });
    expect(checkOf(json, 'gpu-runtime')).toMatchObject({
      summary: 'A container sees the GPU through the nvidia runtime',
      metrics: { gpuRuntimeVisibleGpus: 1 },
    });
    expect(checkOf(json, 'cluster')).toMatchObject({ summary: 'Node nd-testnode is Ready with 1 GPU' });

    // The server serves the network probe (the 404 finding of older servers: audit-verdicts.test.ts).
    const network = checkOf(json, 'network');
    expect(network.status).toBe('pass');
    expect(network.summary).toMatch(/^[\d,.]+ Mbit\/s down, [\d,.]+ Mbit\/s up, [\d.]+ ms round trip$/);
    expect(network.metrics.networkDownloadMbps).toBeGreaterThan(0);
    expect(network.metrics.networkUploadMbps).toBeGreaterThan(0);
    expect(network.metrics.networkRttMs).toBeGreaterThan(0);

    // What ran, with which arguments (the stand-ins log theirs).
    const argv = calls(log);
    expect(argv).toContain(
      'nvidia-smi --query-gpu=index,uuid,name,pci.bus_id,driver_version,temperature.gpu,utilization.gpu,ecc.errors.uncorrected.volatile.total,clocks_throttle_reasons.active,pcie.link.gen.current,pcie.link.gen.max,pcie.link.width.current,pcie.link.width.max --format=csv,noheader,nounits',
    );
    expect(argv).toContain('dmesg --time-format iso');
    expect(argv).toContain('k3s kubectl get pods -A -o json --field-selector spec.nodeName=nd-testnode');
    expect(argv).toContain('systemctl is-active k3s-agent');
    expect(argv).toContain('k3s kubectl get node nd-testnode -o json');
    const crictl = argv
      .filter((l) => l.startsWith('k3s crictl'))
      .map((l) => l.split(' ').slice(2, 4).join(' '));
    expect(crictl).toEqual([
      'info',
      'pull docker.io/library/debian:bookworm-slim',
      'runp --runtime',
      `create ${'6b1f0c4d8e2a9f7b3c5d1e0f2a4b6c8d0e1f3a5b7c9d2e4f6a8b0c1d3e5f7a9b'}`,
      `start d41e9a7c3b5f2e8d0c6a4b1f9e7d5c3a2b0f8e6d4c1a3b5e7f9d0c2e4a6b8c1d`,
      'inspect -o',
      'logs d41e9a7c3b5f2e8d0c6a4b1f9e7d5c3a2b0f8e6d4c1a3b5e7f9d0c2e4a6b8c1d',
      'stopp 6b1f0c4d8e2a9f7b3c5d1e0f2a4b6c8d0e1f3a5b7c9d2e4f6a8b0c1d3e5f7a9b',
      'rmp -f',
    ]);
    const stateRe = stateDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    expect(argv).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          new RegExp(`^k3s crictl runp --runtime nvidia ${stateRe}/homenode-audit-pod-\\w+/pod\\.json$`),
        ),
      ]),
    );

    // Kept for the console and the next audit; nothing of the test files is left behind.
    const record = JSON.parse(readFileSync(join(stateDir, 'audit-last.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(record).toMatchObject({ trigger: 'local', passed: true, expectedGpus: [GPU0] });
    expect(readdirSync(stateDir).filter((f) => f.startsWith('homenode-audit'))).toEqual([]);
    expect(existsSync(join(stateDir, 'audit.lock'))).toBe(false);
  }, 180_000);
});

describe('agent audit --light finds broken GPUs (no benchmarks, not joined)', () => {
  const light = (standins: string, extra: string[] = []) =>
    audit(['--light', '--state-dir', join(tempDir(), 'state'), ...extra], { path: auditPath(standins) });

  it('fails a driver that sees no GPU, with the plain fix and the guide link', async () => {
    const run = await light(AUDIT_STANDINS.nodevices);
    expect(run.code).toBe(1);
    const gpu = checkOf(run.json, 'gpu');
    expect(gpu.status).toBe('fail');
    expect(gpu.summary).toBe('The NVIDIA driver sees no GPU (and 1 more problem)');
    expect(gpu.fix).toMatch(/^Switch the machine off at the wall/);
    expect(gpu.docUrl).toBe('docs/troubleshooting.md#gpu');
    expect(run.json.skipped.map((s) => s.id)).toEqual(['gpu-runtime', 'cpu', 'memory', 'network', 'cluster']);
    expect(run.json.skipped.find((s) => s.id === 'cpu')?.reason).toBe(
      'CPU benchmark skipped: this was a light audit (health checks only).',
    );
  }, 60_000);

  it('fails a missing GPU by UUID, then keeps expecting it on the next audit', async () => {
    const stateDir = join(tempDir(), 'state');
    const first = await audit(['--light', '--state-dir', stateDir, '--expect-gpus', `${GPU0},${GPU1}`], {
      path: auditPath(AUDIT_STANDINS.missingGpu),
    });
    expect(first.code).toBe(1);
    expect(checkOf(first.json, 'gpu').summary).toBe(`1 of 2 GPUs missing: ${GPU1} (and 1 more problem)`);
    const again = await audit(['--light', '--state-dir', stateDir], {
      path: auditPath(AUDIT_STANDINS.missingGpu),
    });
    expect(again.code).toBe(1);
    expect(checkOf(again.json, 'gpu').detail).toContain(`${GPU1} is not among them`);
  }, 60_000);

  it.each([
    ['ECC errors', AUDIT_STANDINS.ecc, 'GPU 0 (NVIDIA GeForce RTX 4090) has 2 uncorrectable memory errors'],
    [
      'thermal throttling',
      AUDIT_STANDINS.thermal,
      'GPU 0 (NVIDIA GeForce RTX 4090) is overheating and slows itself down at idle',
    ],
    ['a x4 link', AUDIT_STANDINS.pcieX4, 'GPU 0 (NVIDIA GeForce RTX 4090) runs on a narrow PCIe link: x4'],
  ])(
    'fails %s',
    async (_name, standins, summary) => {
      const run = await light(standins);
      expect(run.code).toBe(1);
      expect(checkOf(run.json, 'gpu').summary.startsWith(summary)).toBe(true);
    },
    60_000,
  );
});

describe('agent audit around workloads, the cluster and missing tools', () => {
  it('skips the benchmarks while a lease uses the GPU, and says which', async () => {
    const stateDir = join(tempDir(), 'state');
    writeJoined(stateDir);
    const run = await audit(['--state-dir', stateDir], {
      path: auditPath(AUDIT_STANDINS.rtx4090, AUDIT_STANDINS.k3s),
      env: { HOMENODE_STANDIN_PODS: join(K3S_FIXTURES, 'pods-gpu.json') },
    });
    expect(run.code).toBe(0);
    const lease =
      'akash1q7spxfj3ps6lx4qk2xlqjkxr3wpjyjmk4ap0vn/18744213/1/1/akash1homenodeprovider0000000000000000000000';
    expect(run.json.skipped.map((s) => s.id)).toEqual(['cpu', 'memory', 'network']);
    expect(run.json.skipped[0]?.reason).toBe(
      `CPU benchmark skipped: a workload is using this machine's GPU (${lease}); the benchmark would slow it down, so it was not run.`,
    );
    const disk = checkOf(run.json, 'disk');
    expect(disk.detail).toContain('Disk benchmark skipped: a workload is using');
    expect(disk.metrics).not.toHaveProperty('diskRandReadIops');
    expect(checkOf(run.json, 'gpu-runtime').detail).toContain('Container test skipped: a workload is using');
  }, 60_000);

  it('fails a node that is not Ready, has lost its GPU in the cluster and its nvidia runtime', async () => {
    const stateDir = join(tempDir(), 'state');
    writeJoined(stateDir);
    const run = await audit(['--light', '--state-dir', stateDir], {
      path: auditPath(AUDIT_STANDINS.rtx4090, AUDIT_STANDINS.k3s),
      env: {
        HOMENODE_STANDIN_NODE: join(K3S_FIXTURES, 'node-notready-0gpu.json'),
        HOMENODE_STANDIN_CRICTL_INFO: join(K3S_FIXTURES, 'crictl-info-runc-only.json'),
      },
    });
    expect(run.code).toBe(1);
    expect(checkOf(run.json, 'cluster').summary).toBe(
      'The cluster node nd-testnode is not Ready (and 1 more problem)',
    );
    expect(checkOf(run.json, 'gpu-runtime')).toMatchObject({
      status: 'fail',
      summary: 'The container runtime has no "nvidia" handler',
    });
    const down = await audit(['--light', '--state-dir', stateDir], {
      path: auditPath(AUDIT_STANDINS.rtx4090, AUDIT_STANDINS.k3s),
      env: { HOMENODE_STANDIN_K3S_STATE: 'failed' },
    });
    expect(checkOf(down.json, 'cluster')).toMatchObject({
      status: 'fail',
      summary: 'The cluster agent (k3s-agent) is not running',
      detail: 'systemctl says k3s-agent is failed: this machine is not part of the cluster right now.',
    });
  }, 60_000);

  it('turns missing fio and sysbench into warnings that name the package, never a crash', async () => {
    const run = await audit(['--state-dir', join(tempDir(), 'state')], {
      path: barePath(AUDIT_STANDINS.rtx4090),
    });
    expect(run.code).toBe(0);
    expect(checkOf(run.json, 'cpu')).toMatchObject({
      status: 'warn',
      summary: 'CPU speed not measured: sysbench is not installed',
      fix: 'Install it (as root: apt-get install sysbench), or update Home Node: the installed system ships it.',
    });
    expect(checkOf(run.json, 'memory').summary).toBe('Memory speed not measured: sysbench is not installed');
    expect(checkOf(run.json, 'disk')).toMatchObject({
      status: 'warn',
      summary: 'Disk speed not measured: fio is not installed',
    });
  }, 60_000);

  it('refuses to run while another audit holds the lock (exit 9)', async () => {
    const stateDir = tempDir();
    writeFileSync(
      join(stateDir, 'audit.lock'),
      JSON.stringify({ pid: process.pid, what: 'audit aud_x', since: '' }),
    );
    const run = await runAgent(['audit', '--state-dir', stateDir], {
      path: auditPath(AUDIT_STANDINS.rtx4090),
    });
    expect(run.code).toBe(9);
    expect(run.stderr).toContain(
      `Another audit is running on this machine (audit aud_x, process ${process.pid}).`,
    );
  }, 30_000);

  it('refuses a malformed --expect-gpus before running anything (exit 2)', async () => {
    const run = await runAgent(['audit', '--expect-gpus', 'GPU-0;reboot', '--state-dir', tempDir()]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('"GPU-0;reboot" is not one');
  }, 30_000);
});
