/**
 * `npm run test:iso`: the whole promise, for real. Build (or reuse) the test ISO, start the
 * enroll-server on loopback, boot the ISO in QEMU (TCG, 2 GiB, blank disk, user networking) and
 * drive the serial console: checks, key, disk choice and confirmation, install, reboot from the
 * disk alone, pending, approval, join, active; then restart from the disk and see the same node.
 * Inside the live system the image reports its own software on a second serial port: Node 24, the
 * NVIDIA driver's nvidia-smi and the gpu check with the real programs (a VM has no NVIDIA GPU), fio
 * and sysbench. The serial logs are kept under test-results/iso/.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Check } from '../../protocol/hardware.js';
import { NODE_RUNTIME } from '../../scripts/node-runtime.js';
import { ROOT, startEnrollServer, type EnrollServer } from './enroll-server-process.js';
import { type Section, waitForSelftest } from './selftest-report.js';
import { OVMF_VARS, SerialConsole } from './serial-console.js';

const RESULTS = join(ROOT, 'test-results/iso');
const ISO = join(ROOT, 'dist/homenode-test.iso');
const SERIAL_LOG = join(RESULTS, 'serial.log');
const SELFTEST_LOG = join(RESULTS, 'selftest.log');
const DISK = join(RESULTS, 'disk.img');
const UEFI_VARS = join(RESULTS, 'uefi-vars.fd');
const MIN = 60_000;

const durations: [string, number][] = [];
async function phase<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    const s = (performance.now() - t0) / 1000;
    durations.push([name, s]);
    process.stdout.write(`[iso] ${name}: ${s.toFixed(1)} s\n`);
  }
}

function runInherit(program: string, args: string[], timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${program} ${args.join(' ')} failed (${code ?? signal})`));
    });
  });
}

interface NodeView {
  id: string;
  status: string;
  online: boolean;
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

describe('the Home Node ISO in QEMU', () => {
  let server: EnrollServer;
  let vm: SerialConsole | undefined;
  let nodeId = '';
  let selftest: Map<string, Section> | undefined;

  const node = async () => (await server.api<NodeView>('GET', `/v1/nodes/${nodeId}`)).body;

  beforeAll(async () => {
    rmSync(RESULTS, { recursive: true, force: true });
    mkdirSync(RESULTS, { recursive: true });
    process.stdout.write(`[iso] serial log: ${SERIAL_LOG}\n`);
    await phase('build (or reuse) the test ISO', () =>
      runInherit(
        'npx',
        [
          'tsx',
          'iso-builder/build-iso.ts',
          '--server',
          'http://10.0.2.2:8080',
          // QEMU's host address is not loopback inside the guest: plain http needs the explicit consent.
          '--allow-insecure-http',
          '--test-standins',
          '--reuse',
        ],
        15 * MIN,
      ),
    );
    // A blank 16 GiB disk (sparse raw file: no qemu-img needed).
    truncateSync((writeFileSync(DISK, ''), DISK), 16 * 1024 ** 3);
    server = await phase('start the enroll-server on 127.0.0.1:8080', () => startEnrollServer());
  });

  afterAll(async () => {
    await vm?.stop();
    await server?.stop();
    process.stdout.write(
      `[iso] phases:\n${durations.map(([n, s]) => `  ${s.toFixed(1).padStart(7)} s  ${n}`).join('\n')}\n[iso] serial log: ${SERIAL_LOG}\n`,
    );
  });

  it('boots the ISO by UEFI (OVMF) to the setup screen', async () => {
    copyFileSync(OVMF_VARS, UEFI_VARS);
    const blank = join(RESULTS, 'uefi-blank.img');
    truncateSync((writeFileSync(blank, ''), blank), 1024 ** 3);
    vm = new SerialConsole({
      iso: ISO,
      disk: blank,
      memoryMiB: 2048,
      logFile: SERIAL_LOG,
      label: 'live, UEFI',
      uefiVars: UEFI_VARS,
    });
    const uefi = vm;
    await phase('boot the ISO by UEFI to the setup screen', () =>
      uefi.expect(/Press Enter to set it up/, 8 * MIN),
    );
    await uefi.stop();
    rmSync(blank);
  });

  it('boots the live system and shows the checks', async () => {
    vm = new SerialConsole({
      iso: ISO,
      disk: DISK,
      memoryMiB: 2048,
      logFile: SERIAL_LOG,
      label: 'live, BIOS',
      secondSerialFile: SELFTEST_LOG,
    });
    const live = vm;
    await phase('boot the ISO to the setup screen', () => live.expect(/Press Enter to set it up/, 8 * MIN));
    // The self-test (with the audit suite, which loads both virtual CPUs) finishes first, so that
    // the setup's own checks do not compete with it for the emulated machine.
    selftest = await phase('self-test report inside the VM (second serial port), with agent audit', () =>
      waitForSelftest(SELFTEST_LOG, 10 * MIN),
    );
    live.type('\r');
    await phase('checks', async () => {
      await live.expect(/Checking this machine/, 3 * MIN);
      await live.expect(/Installation key:/, 4 * MIN);
    });
    expect(live.output).toMatch(/gpu\s+1 NVIDIA GPU: rtx4090/);
  });

  it("reports the image's own software: Node 24, nvidia-smi, no NVIDIA GPU in the VM, fio, sysbench, agent audit", async () => {
    const report = selftest;
    if (!report)
      throw new Error(`no self-test report in ${SELFTEST_LOG}: the live boot did not get that far`);
    for (const [name, { output, exit }] of report)
      process.stdout.write(`[iso] in the VM, ${name} (exit ${exit}): ${output.split('\n')[0] ?? ''}\n`);
    const section = (name: string) => {
      const found = report.get(name);
      if (!found) throw new Error(`no "${name}" section in ${SELFTEST_LOG}`);
      return found;
    };
    expect(section('node')).toEqual({ output: `v${NODE_RUNTIME.version}`, exit: 0 });
    expect(section('nvidia-smi-path')).toMatchObject({ exit: 0 });
    expect(section('nvidia-smi-path').output).toMatch(
      /^\/usr\/bin\/nvidia-smi\n\/usr\/lib\/nvidia\/current\/nvidia-smi$/,
    );
    // The real nvidia-smi with no NVIDIA card: the module has nothing to drive.
    expect(section('nvidia-smi').exit).not.toBe(0);
    expect(section('nvidia-module')).toMatchObject({ exit: 0 });
    expect(section('nvidia-module').output).toMatch(/^535\.\d+\.\d+$/);
    expect(section('fio')).toMatchObject({ exit: 0, output: expect.stringMatching(/^fio-3\.\d+/) });
    expect(section('sysbench')).toMatchObject({ exit: 0, output: expect.stringMatching(/^sysbench 1\.\d+/) });
    const preflight = section('preflight');
    expect(preflight.exit, 'preflight fails: no GPU').toBe(1);
    const json = JSON.parse(preflight.output) as { checks: Check[] };
    const gpu = json.checks.find((c) => c.id === 'gpu');
    process.stdout.write(`[iso] in the VM, the gpu check: ${gpu?.status}: ${gpu?.summary}. ${gpu?.detail}\n`);
    expect(gpu).toMatchObject({ status: 'fail', summary: 'No NVIDIA GPU found' });
    expect(gpu?.detail).toMatch(/The NVIDIA driver 535\.\d+\.\d+ is installed, but there is no NVIDIA card/);

    // `agent audit` for real inside the VM: fio, sysbench and the network probe; the gpu check
    // fails (no card), so the suite exits 1. Its figures go to the test output.
    const audit = section('audit');
    const result = JSON.parse(audit.output) as {
      checks: { id: string; status: string; summary: string; metrics: Record<string, number> }[];
      skipped: { id: string; reason: string }[];
      startedAt: string;
      finishedAt: string;
    };
    const seconds = (Date.parse(result.finishedAt) - Date.parse(result.startedAt)) / 1000;
    process.stdout.write(`[iso] in the VM, agent audit (exit ${audit.exit}, ${seconds.toFixed(0)} s):\n`);
    for (const c of result.checks) {
      const figures = Object.entries(c.metrics)
        .map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toFixed(1)}`)
        .join(' ');
      process.stdout.write(
        `[iso]   ${c.id.padEnd(11)} ${c.status.padEnd(4)} ${c.summary}${figures ? ` | ${figures}` : ''}\n`,
      );
    }
    for (const s of result.skipped) process.stdout.write(`[iso]   ${s.id.padEnd(11)} skip ${s.reason}\n`);
    expect(audit.exit, 'the audit fails: no GPU').toBe(1);
    expect(result.checks.find((c) => c.id === 'gpu')).toMatchObject({ status: 'fail' });
    const cpu = result.checks.find((c) => c.id === 'cpu');
    expect(cpu?.metrics.cpuEventsPerSecPerThread, 'sysbench really ran').toBeGreaterThan(0);
    const disk = result.checks.find((c) => c.id === 'disk');
    expect(disk?.metrics.diskRandReadIops, 'fio really ran').toBeGreaterThan(0);
  });

  it('enrolls with a key created through the API', async () => {
    const live = vm!;
    const owner = await server.api<{ id: string }>('POST', '/v1/owners', {
      email: 'iso@example.com',
      name: 'ISO Test',
    });
    expect(owner.status).toBe(201);
    const key = await server.api<{ key: string }>('POST', '/v1/keys', { ownerId: owner.body.id });
    expect(key.status).toBe(201);
    live.type(`${key.body.key}\r`);
    await phase('enroll', () => live.expect(/Disk number:/, 4 * MIN));
    const listed = await server.api<{ nodes: NodeView[] }>('GET', '/v1/nodes');
    expect(listed.body.nodes).toHaveLength(1);
    nodeId = listed.body.nodes[0]!.id;
    expect(listed.body.nodes[0]!.status).toBe('pending');
  });

  it('installs to the chosen disk after the typed confirmation', async () => {
    const live = vm!;
    const row = /(\d+)\)\s+\/dev\/vda\s/.exec(live.output);
    expect(row, 'the blank disk is offered').not.toBeNull();
    live.type(`${row![1]}\r`);
    await live.expect(/Type "vda" to erase/, MIN);
    live.type('vda\r');
    await phase('install to disk', () =>
      live.expect(/Press Enter to restart:/, 20 * MIN, 'the end of the install'),
    );
    // Restart first, so that a failed expectation below leaves no VM holding the disk.
    live.type('\r');
    await phase('reboot (the VM stops; -no-reboot)', () => live.waitExit(3 * MIN));
    // The kernel may print on the same console in the middle of a progress line.
    const kernelLines = String.raw`(?:\[\s*\d+\.\d+\][^\n]*\n)*`;
    expect(live.output).toMatch(
      new RegExp(String.raw`Installing the boot loader for BIOS \.\.\. ${kernelLines}done`),
    );
    expect(live.output).toMatch(
      new RegExp(String.raw`Installing the boot loader for UEFI \.\.\. ${kernelLines}done`),
    );
  });

  it('boots from the disk alone, shows pending, joins when approved and reports active', async () => {
    vm = new SerialConsole({ disk: DISK, memoryMiB: 2048, logFile: SERIAL_LOG, label: 'disk boot 1, BIOS' });
    const disk = vm;
    await phase('boot from the disk until the node is online (pending)', () =>
      until('the node online', 10 * MIN, async () => {
        const n = await node();
        return n.online ? n : undefined;
      }),
    );
    expect((await node()).status).toBe('pending');
    await disk.expect(/Status: pending/, 2 * MIN);
    const approved = await server.api('POST', `/v1/nodes/${nodeId}/approve`, { note: 'ISO test' });
    expect(approved.status).toBe(200);
    await phase('approval to join and active', async () => {
      await disk.expect(/Joining the cluster/, 3 * MIN);
      await until('status active', 5 * MIN, async () =>
        (await node()).status === 'active' ? true : undefined,
      );
      await disk.expect(/Status: active/, 3 * MIN);
    });
    const all = await server.api<{ total: number }>('GET', '/v1/nodes');
    expect(all.body.total).toBe(1);
  });

  it('restarts from the disk (by UEFI this time) and the same node reconnects', async () => {
    await phase('power off', async () => {
      await vm?.stop();
      await until('the node offline', 2 * MIN, async () => ((await node()).online ? undefined : true));
    });
    // The second start from the disk is by UEFI: the install wrote GRUB for both.
    copyFileSync(OVMF_VARS, UEFI_VARS);
    vm = new SerialConsole({
      disk: DISK,
      memoryMiB: 2048,
      logFile: SERIAL_LOG,
      label: 'disk boot 2, UEFI',
      uefiVars: UEFI_VARS,
    });
    const again = vm;
    const poweredOffAt = Date.now();
    await phase('boot from the disk by UEFI until the same node is online', () =>
      until('the node online again', 10 * MIN, async () => ((await node()).online ? true : undefined)),
    );
    // The console tails the agent's log, old lines included: look for a connection made after the
    // power-off (the guest's clock comes from the host's).
    await until('a control_connected line from this boot on the console', 2 * MIN, async () => {
      const stamps = [...again.output.matchAll(/(\S+Z) info +control_connected/g)].map((m) =>
        Date.parse(m[1]!),
      );
      return stamps.some((t) => t > poweredOffAt) ? true : undefined;
    });
    await again.expect(/Status: active/, 3 * MIN);
    expect(again.output, 'booted by the UEFI firmware').toMatch(/BdsDxe|UEFI/);
    const all = await server.api<{ total: number; nodes: NodeView[] }>('GET', '/v1/nodes');
    expect(all.body.total).toBe(1);
    expect(all.body.nodes[0]!.id).toBe(nodeId);
    expect(all.body.nodes[0]!.status).toBe('active');
  });
});
