/** Parsers of the audit's tools, fed with output recorded on real machines (fixtures and stand-ins). */
import { describe, expect, it } from 'vitest';
import { parseClusterNode } from '../../agent/audit/cluster-check.js';
import { FIO_SAFE_PATH, diskFigures, fioArgs, parseFioJson } from '../../agent/audit/fio.js';
import { parseSmiList, runtimeHandlers } from '../../agent/audit/gpu-runtime-check.js';
import {
  NVIDIA_AUDIT_ARGS,
  THROTTLE,
  classifyNvidiaAnswer,
  parseGpuHealth,
  shortBusId,
  throttleFindings,
} from '../../agent/audit/nvidia-audit.js';
import {
  SysbenchParseError,
  parseSysbenchCpu,
  parseSysbenchMemory,
  sysbenchCpuArgs,
  sysbenchMemoryArgs,
} from '../../agent/audit/sysbench.js';
import { DMESG_ARGS, parseXidEvents, summarizeXids } from '../../agent/audit/xid.js';
import { fixtureText, recordedOutput } from '../helpers/recorded.js';

const UUID0 = 'GPU-5a7f3e7c-1b2d-4c9e-8f0a-6d3b2e1c4a90';
const exec = (over: Partial<Parameters<typeof classifyNvidiaAnswer>[0]>) => ({
  ok: true,
  missing: false,
  exitCode: 0,
  stdout: '',
  stderr: '',
  problem: '',
  ...over,
});

describe('sysbench (1.0.20, recorded on this machine)', () => {
  it('reads events per second, threads and the 95th percentile from a cpu run', () => {
    const result = parseSysbenchCpu(fixtureText('audit', 'sysbench-cpu.txt'));
    expect(result).toEqual({ threads: 2, eventsPerSec: 585.34, totalEvents: 1786, latencyP95Ms: 11.45 });
  });

  it('reads MiB/s from memory write and read runs', () => {
    expect(parseSysbenchMemory(fixtureText('audit', 'sysbench-memory-write.txt'))).toEqual({
      threads: 2,
      mibPerSec: 11129.48,
      totalMiB: 22279,
    });
    expect(parseSysbenchMemory(fixtureText('audit', 'sysbench-memory-read.txt')).mibPerSec).toBe(18824.87);
  });

  it('refuses output that is not a report (an option error), naming what it missed', () => {
    const bad = fixtureText('audit', 'sysbench-bad.txt');
    expect(() => parseSysbenchCpu(bad)).toThrow(SysbenchParseError);
    expect(() => parseSysbenchMemory(bad)).toThrow(/MiB transferred/);
  });

  it('builds fixed-work argument arrays', () => {
    expect(sysbenchCpuArgs(32, 10)).toEqual([
      'cpu',
      '--threads=32',
      '--time=10',
      '--events=0',
      '--cpu-max-prime=20000',
      'run',
    ]);
    expect(sysbenchMemoryArgs(4, 5, 'read')).toContain('--memory-oper=read');
  });
});

describe('fio (3.33 JSON, recorded on this machine)', () => {
  it('reads the four jobs of a healthy run into figures', () => {
    const parsed = parseFioJson(fixtureText('audit', 'fio-healthy.json'));
    expect(parsed.version).toBe('fio-3.33');
    expect(parsed.jobs.map((j) => j.name)).toEqual(['seq-write', 'seq-read', 'rand-read', 'rand-write']);
    const figures = diskFigures(parsed);
    if (!figures.ok) throw new Error('expected figures');
    expect(figures.figures.randReadIops).toBeGreaterThan(1000);
    expect(figures.figures.randWriteIops).toBeGreaterThan(1000);
    expect(figures.figures.seqReadMiBps).toBeGreaterThan(100);
    // 32 MiB sequential + 8 MiB random, the bounds the recording ran with.
    expect(figures.figures.writtenBytes).toBe(40 * 1024 * 1024);
  });

  it('names the failed job and its errno (a path that is a directory: EISDIR)', () => {
    const parsed = parseFioJson(fixtureText('audit', 'fio-job-error.json'));
    expect(diskFigures(parsed)).toEqual({ ok: false, job: 'seq-write', error: 21 });
  });

  it('skips warnings printed before the JSON and refuses text without a report', () => {
    const text = `fio: this platform does not support process shared mutexes\n${fixtureText('audit', 'fio-healthy.json')}`;
    expect(parseFioJson(text).jobs).toHaveLength(4);
    expect(() => parseFioJson('fio: failed parsing directory=/nope\n')).toThrow(
      /did not print a JSON report/,
    );
  });

  it('runs the jobs one after another with direct I/O, writes bounded by size and reads by time', () => {
    const args = fioArgs({
      directory: '/var/lib/homenode',
      fileName: 'homenode-audit-00.fio',
      fileBytes: 128 * 2 ** 20,
      randWriteBytes: 64 * 2 ** 20,
      secondsPerJob: 5,
      direct: true,
    });
    expect(args.filter((a) => a === '--stonewall')).toHaveLength(4);
    expect(args).toContain('--direct=1');
    expect(args).toContain(`--io_size=${64 * 2 ** 20}`);
    expect(args.filter((a) => a === '--time_based')).toHaveLength(2);
    expect(FIO_SAFE_PATH.test('/var/lib/homenode')).toBe(true);
    expect(FIO_SAFE_PATH.test('/srv/a:b')).toBe(false);
    expect(FIO_SAFE_PATH.test('relative/dir')).toBe(false);
  });
});

describe('nvidia-smi health query', () => {
  it('asks for exactly the fields the stand-ins answer', () => {
    expect(NVIDIA_AUDIT_ARGS[1]).toBe('--format=csv,noheader,nounits');
    expect(fixtureText('bin-audit-rtx4090', 'nvidia-smi')).toContain(NVIDIA_AUDIT_ARGS[0]);
  });

  it('parses a healthy idle RTX 4090 (ECC not available on GeForce)', () => {
    expect(parseGpuHealth(recordedOutput('bin-audit-rtx4090', 'nvidia-smi'))).toEqual([
      {
        index: 0,
        uuid: UUID0,
        name: 'NVIDIA GeForce RTX 4090',
        busId: '0000:01:00.0',
        driver: '550.54.15',
        tempC: 38,
        utilizationPct: 0,
        eccUncorrected: undefined,
        throttleMask: THROTTLE.gpuIdle,
        pcieGen: 1,
        pcieGenMax: 4,
        pcieWidth: 16,
        pcieWidthMax: 16,
      },
    ]);
  });

  it('reads ECC counts, throttle masks and link widths of the broken cards', () => {
    expect(parseGpuHealth(recordedOutput('bin-audit-ecc', 'nvidia-smi'))[0]?.eccUncorrected).toBe(2);
    const hot = parseGpuHealth(recordedOutput('bin-audit-thermal', 'nvidia-smi'))[0];
    expect(hot?.tempC).toBe(91);
    expect(throttleFindings(hot?.throttleMask ?? 0n)).toEqual({
      thermal: true,
      hardware: false,
      powerCap: false,
    });
    expect(parseGpuHealth(recordedOutput('bin-audit-pcie-x4', 'nvidia-smi'))[0]).toMatchObject({
      pcieWidth: 4,
      pcieWidthMax: 16,
    });
    expect(throttleFindings(THROTTLE.hwPowerBrakeSlowdown | THROTTLE.swPowerCap)).toEqual({
      thermal: false,
      hardware: true,
      powerCap: true,
    });
  });

  it('tells a GPU list, "No devices were found", a missing driver and a missing program apart', () => {
    const rows = recordedOutput('bin-audit-rtx4090', 'nvidia-smi');
    expect(classifyNvidiaAnswer(exec({ stdout: rows })).kind).toBe('gpus');
    expect(classifyNvidiaAnswer(exec({ ok: false, exitCode: 6, stdout: 'No devices were found\n' }))).toEqual(
      {
        kind: 'no-devices',
      },
    );
    const noDriver = fixtureText('bin-nodriver', 'nvidia-smi')
      .split('\n')
      .find((l) => l.startsWith('echo'));
    const message = /echo "(.*)" >&2/.exec(noDriver ?? '')?.[1] ?? '';
    expect(classifyNvidiaAnswer(exec({ ok: false, exitCode: 9, stderr: message }))).toEqual({
      kind: 'no-driver',
      message,
    });
    expect(classifyNvidiaAnswer(exec({ ok: false, missing: true, exitCode: undefined }))).toEqual({
      kind: 'missing',
    });
    expect(
      classifyNvidiaAnswer(exec({ ok: false, exitCode: 2, problem: 'nvidia-smi failed (exit 2)' })),
    ).toEqual({
      kind: 'failed',
      message: 'nvidia-smi failed (exit 2)',
    });
  });

  it('ignores lines that are not rows and normalises bus ids', () => {
    expect(parseGpuHealth('WARNING: infoROM is corrupted at gpu 0000:01:00.0\n\n')).toEqual([]);
    expect(shortBusId('00000000:01:00.0')).toBe('0000:01:00.0');
    expect(shortBusId('0000:41:00.0')).toBe('0000:41:00.0');
  });
});

describe('Xid events in the kernel log', () => {
  it('finds the fallen-off-the-bus event of the missing GPU, with its time and bus', () => {
    const events = parseXidEvents(recordedOutput('bin-audit-missing-gpu', 'dmesg'), undefined);
    expect(events).toEqual([{ at: Date.parse('2026-11-02T09:31:44.551Z'), pci: '0000:02:00', code: 79 }]);
    expect(summarizeXids(events)).toBe('Xid 79 (the GPU has fallen off the bus)');
  });

  it('counts only events after the last audit', () => {
    const log = recordedOutput('bin-audit-rtx4090', 'dmesg');
    expect(parseXidEvents(log, undefined).map((e) => e.code)).toEqual([13]);
    expect(parseXidEvents(log, Date.parse('2026-11-02T00:00:00Z'))).toEqual([]);
    expect(DMESG_ARGS).toEqual(['--time-format', 'iso']);
  });
});

describe('k3s answers', () => {
  it('reads a Ready node with one GPU allocatable', () => {
    const node = parseClusterNode(fixtureText('k3s', 'node-ready-1gpu.json'));
    expect(node).toMatchObject({ name: 'nd-testnode', allocatableGpus: 1, unschedulable: false });
    expect(node.conditions.find((c) => c.type === 'Ready')?.status).toBe('True');
  });

  it('reads a node whose kubelet stopped reporting', () => {
    const node = parseClusterNode(fixtureText('k3s', 'node-notready-0gpu.json'));
    expect(node.allocatableGpus).toBe(0);
    expect(node.conditions.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'Unknown',
      reason: 'NodeStatusUnknown',
    });
    expect(() => parseClusterNode(fixtureText('k3s', 'pods-none.json'))).toThrow(/not print a Node/);
  });

  it('lists containerd runtime handlers (1.7 config and 2.x runtimeHandlers)', () => {
    expect(runtimeHandlers(fixtureText('k3s', 'crictl-info-nvidia.json'))).toEqual(['nvidia', 'runc']);
    expect(runtimeHandlers(fixtureText('k3s', 'crictl-info-runc-only.json'))).toEqual(['runc']);
    expect(runtimeHandlers('{"runtimeHandlers":[{"name":""},{"name":"nvidia"}]}')).toEqual(['nvidia']);
    expect(() => runtimeHandlers('level=fatal msg="connect: connection refused"')).toThrow(/JSON/);
  });

  it('reads GPU UUIDs from nvidia-smi -L inside the container', () => {
    expect(parseSmiList(`GPU 0: NVIDIA GeForce RTX 4090 (UUID: ${UUID0})\n`)).toEqual([UUID0]);
    expect(parseSmiList('No devices were found\n')).toEqual([]);
  });
});
