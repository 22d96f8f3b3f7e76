/** Verdicts of the benchmark, cluster, runtime and network checks, from recorded figures. */
import { describe, expect, it } from 'vitest';
import { assessClusterNode, parseClusterNode } from '../../agent/audit/cluster-check.js';
import { assessCpu } from '../../agent/audit/cpu-check.js';
import { assessDisk, planDiskBenchmark } from '../../agent/audit/disk-check.js';
import { clampVerdict, combine, missingTool } from '../../agent/audit/finding.js';
import { diskFigures, parseFioJson } from '../../agent/audit/fio.js';
import { assessContainerView } from '../../agent/audit/gpu-runtime-check.js';
import { assessMemory } from '../../agent/audit/memory-check.js';
import { assessNetwork, mbps, median, probeRefusal } from '../../agent/audit/network-check.js';
import { nextExpectedGpus } from '../../agent/audit/run-audit.js';
import { assessShm } from '../../agent/audit/shm-check.js';
import { parseSysbenchCpu, parseSysbenchMemory } from '../../agent/audit/sysbench.js';
import {
  DEFAULT_AUDIT_LIMITS,
  DEFAULT_AUDIT_THRESHOLDS,
  diskWriteBytes,
} from '../../protocol/audit-policy.js';
import { AUDIT_TEXT_LIMITS } from '../../protocol/audit.js';
import { fixtureText } from '../helpers/recorded.js';

const T = DEFAULT_AUDIT_THRESHOLDS;
const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const GPU0 = 'GPU-5a7f3e7c-1b2d-4c9e-8f0a-6d3b2e1c4a90';

describe('cpu and memory', () => {
  it('passes this machine (2 threads, recorded) and fails the same run against a higher bar', () => {
    const run = parseSysbenchCpu(fixtureText('audit', 'sysbench-cpu.txt'));
    const ok = assessCpu(run, 3, T);
    expect(ok).toMatchObject({ status: 'pass', summary: '293 events/s per thread on 2 threads' });
    expect(ok.metrics).toEqual({
      cpuEventsPerSec: 585.34,
      cpuEventsPerSecPerThread: 292.67,
      cpuThreads: 2,
      cpuLatencyP95Ms: 11.45,
    });
    const slow = assessCpu(run, 3, { ...T, cpuMinEventsPerSecPerThread: 1000 });
    expect(slow.status).toBe('fail');
    expect(slow.summary).toBe('The processor is much slower than it should be: 293 events/s per thread');
    expect(slow.detail).toContain('A healthy processor reaches at least 1,000 per thread');
    expect(slow.fix).toContain('Check that the processor fan spins');
  });

  it('judges the slower of memory write and read', () => {
    const write = parseSysbenchMemory(fixtureText('audit', 'sysbench-memory-write.txt'));
    const read = parseSysbenchMemory(fixtureText('audit', 'sysbench-memory-read.txt'));
    expect(assessMemory(write, read, T)).toMatchObject({
      status: 'pass',
      summary: 'Memory: 11,129 MiB/s write, 18,825 MiB/s read',
      metrics: { memoryWriteMiBps: 11129.48, memoryReadMiBps: 18824.87 },
    });
    const v = assessMemory(write, read, { ...T, memoryMinMiBps: 15_000 });
    expect(v).toMatchObject({
      status: 'fail',
      summary: 'Memory is much slower than it should be: 11,129 MiB/s',
    });
    expect(v.fix).toContain('reseat the memory modules');
  });
});

describe('disk', () => {
  const figures = (() => {
    const f = diskFigures(parseFioJson(fixtureText('audit', 'fio-healthy.json')));
    if (!f.ok) throw new Error('recorded fio run has no figures');
    return f.figures;
  })();
  const space = { sizeBytes: 250 * GiB, freeBytes: 80 * GiB };

  it('passes the recorded run with free space, and reports every figure', () => {
    const v = assessDisk(figures, space, T, 'note');
    expect(v.status).toBe('pass');
    expect(v.summary).toMatch(
      /^80 GiB free; [\d,]+ \/ [\d,]+ IOPS random read\/write, [\d,]+ \/ [\d,]+ MiB\/s sequential$/,
    );
    expect(Object.keys(v.metrics).sort()).toEqual([
      'diskFreeBytes',
      'diskRandReadIops',
      'diskRandWriteIops',
      'diskSeqReadMiBps',
      'diskSeqWriteMiBps',
      'diskWrittenBytes',
    ]);
  });

  it('fails an almost full disk and a slow (hard) disk, with both problems in the detail', () => {
    const hdd = { ...figures, randReadIops: 180, randWriteIops: 150, seqReadMiBps: 160, seqWriteMiBps: 150 };
    const v = assessDisk(hdd, { sizeBytes: 250 * GiB, freeBytes: 5 * GiB }, T, '');
    expect(v.status).toBe('fail');
    expect(v.summary).toBe('The data disk is almost full: 5.0 GiB free (and 2 more problems)');
    expect(v.detail).toContain('at least 20 GiB must be free');
    expect(v.detail).toContain('4 KiB random reads reached 180 per second; at least 1,000 are needed.');
    expect(v.fix).toContain('Home Node needs a solid-state disk');
  });

  it('plans the test file within the write budget and the free space', () => {
    const plan = planDiskBenchmark('/var/lib/homenode', DEFAULT_AUDIT_LIMITS, space, 'homenode-audit-1.fio');
    if (!plan.ok) throw new Error(plan.reason);
    expect(plan.plan.fileBytes).toBe(128 * MiB);
    expect(plan.plannedBytes).toBe(diskWriteBytes(DEFAULT_AUDIT_LIMITS));
    expect(plan.plannedBytes).toBeLessThanOrEqual(DEFAULT_AUDIT_LIMITS.maxWriteBytes);
    const tight = planDiskBenchmark(
      '/d',
      { ...DEFAULT_AUDIT_LIMITS, maxWriteBytes: 100 * MiB },
      space,
      'f.fio',
    );
    if (!tight.ok) throw new Error(tight.reason);
    expect(tight.plannedBytes).toBeLessThanOrEqual(100 * MiB);
    const full = planDiskBenchmark(
      '/d',
      DEFAULT_AUDIT_LIMITS,
      { sizeBytes: GiB, freeBytes: 20 * MiB },
      'f.fio',
    );
    expect(full).toMatchObject({
      ok: false,
      reason: expect.stringContaining('no room for an 8 MiB test file'),
    });
    const colon = planDiskBenchmark('/srv/a:b', DEFAULT_AUDIT_LIMITS, space, 'f.fio');
    expect(colon).toMatchObject({ ok: false, reason: expect.stringContaining('not a plain absolute path') });
  });
});

describe('shared memory', () => {
  it('passes a large /dev/shm and fails a container-sized one', () => {
    expect(assessShm('/dev/shm', { sizeBytes: 32 * GiB, freeBytes: 32 * GiB }, 2400, T, '')).toMatchObject({
      status: 'pass',
      summary: '/dev/shm: 32 GiB, writes at 2,400 MiB/s',
    });
    const small = assessShm('/dev/shm', { sizeBytes: 64 * MiB, freeBytes: 64 * MiB }, 2400, T, '');
    expect(small).toMatchObject({ status: 'fail', summary: 'Shared memory (/dev/shm) is too small: 64 MiB' });
    const swapping = assessShm('/dev/shm', { sizeBytes: 8 * GiB, freeBytes: 8 * GiB }, 40, T, '');
    expect(swapping.summary).toBe('Shared memory is very slow: 40 MiB/s');
  });
});

describe('network', () => {
  it('computes the median round trip and Mbit/s', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([1, 2, 3, 10])).toBe(2.5);
    expect(mbps(12_500_000, 1000)).toBe(100);
  });

  it('fails a slow line and warns about slow DNS', () => {
    const v = assessNetwork({ downloadMbps: 8, uploadMbps: 1.2, rttMs: 40, dnsMs: 3500 }, T, '');
    expect(v.status).toBe('fail');
    expect(v.summary).toBe('Downloads from the server are too slow: 8 Mbit/s (and 2 more problems)');
    expect(v.detail).toContain('Measured: 8 Mbit/s down, 1.2 Mbit/s up, 40 ms round trip, DNS 3,500 ms.');
    expect(v.fix).toContain('Ethernet cable');
    expect(assessNetwork({ downloadMbps: 300, uploadMbps: 40, rttMs: 18 }, T, '')).toMatchObject({
      status: 'pass',
      summary: '300 Mbit/s down, 40 Mbit/s up, 18 ms round trip',
      metrics: { networkDownloadMbps: 300, networkUploadMbps: 40, networkRttMs: 18 },
    });
  });

  it('says plainly that a server without the probe did not measure throughput', () => {
    const answer = { status: 404, bytes: 80, ms: 2, errorCode: 'NOT_FOUND', retryAfter: undefined };
    const v = assessNetwork({ rttMs: 2 }, T, '', [probeRefusal(answer, true, 'http://127.0.0.1:8080')]);
    expect(v).toMatchObject({
      status: 'warn',
      summary: 'Throughput not measured: the server does not offer the network probe yet',
      fix: 'Nothing to do: the speed is measured once the server offers it.',
      metrics: { networkRttMs: 2 },
    });
    expect(v.detail).toBe(
      'http://127.0.0.1:8080/v1/net-probe answered 404 (NOT_FOUND): this server does not measure download and upload speed yet. Measured: 2 ms round trip.',
    );
    expect(probeRefusal({ ...answer, status: 401 }, false, 'http://s').summary).toBe(
      'Throughput not measured: this machine is not enrolled yet',
    );
    expect(probeRefusal({ ...answer, status: 429, retryAfter: '30' }, true, 'http://s').detail).toContain(
      'retry after 30 s',
    );
  });
});

describe('cluster and container runtime', () => {
  it('passes a Ready node with its GPU, fails one that stopped reporting and lost its GPU', () => {
    const ready = parseClusterNode(fixtureText('k3s', 'node-ready-1gpu.json'));
    expect(assessClusterNode(ready, 1)).toMatchObject({
      status: 'pass',
      summary: 'Node nd-testnode is Ready with 1 GPU',
      metrics: { clusterAllocatableGpus: 1 },
    });
    const v = assessClusterNode(parseClusterNode(fixtureText('k3s', 'node-notready-0gpu.json')), 1);
    expect(v.status).toBe('fail');
    expect(v.summary).toBe('The cluster node nd-testnode is not Ready (and 1 more problem)');
    expect(v.detail).toContain('Ready=Unknown (NodeStatusUnknown: Kubelet stopped posting node status.)');
    expect(v.detail).toContain('The node offers 0 nvidia.com/gpu to workloads, but the driver sees 1 GPU.');
  });

  it('warns about a cordoned node and fails disk pressure', () => {
    const ready = parseClusterNode(fixtureText('k3s', 'node-ready-1gpu.json'));
    expect(assessClusterNode({ ...ready, unschedulable: true }, 1).status).toBe('warn');
    const pressure = {
      ...ready,
      conditions: [
        ...ready.conditions,
        { type: 'DiskPressure', status: 'True', reason: 'KubeletHasDiskPressure', message: '' },
      ],
    };
    expect(assessClusterNode(pressure, 1)).toMatchObject({
      status: 'fail',
      summary: 'The cluster reports DiskPressure on this machine',
    });
  });

  it('passes when the container sees every GPU the driver sees', () => {
    const image = 'docker.io/library/debian:bookworm-slim';
    expect(assessContainerView([GPU0], [GPU0], image)).toMatchObject({
      status: 'pass',
      summary: 'A container sees the GPU through the nvidia runtime',
      metrics: { gpuRuntimeVisibleGpus: 1 },
    });
    expect(assessContainerView([], [GPU0], image)).toMatchObject({
      status: 'fail',
      summary: 'A container sees 0 of 1 GPUs',
    });
  });
});

describe('verdict helpers', () => {
  it('puts the worst problem first and keeps every fix once', () => {
    const v = combine(
      [
        { status: 'warn', summary: 'w', detail: 'dw.', fix: 'same' },
        { status: 'fail', summary: 'f', detail: 'df.', fix: 'same' },
      ],
      'ok',
      'note.',
      {},
    );
    expect(v).toMatchObject({
      status: 'fail',
      summary: 'f (and 1 more problem)',
      detail: 'df. dw. note.',
      fix: 'same',
    });
  });

  it('clamps text to the protocol limits and drops unusable figures', () => {
    const long = 'x'.repeat(5000);
    const v = clampVerdict({
      kind: 'verdict',
      status: 'fail',
      summary: long,
      detail: `line one\nline two ${long}`,
      fix: long,
      metrics: { goodMiBps: 1234.567, 'bad-name': 1, notFinite: Number.NaN },
    });
    expect(v.summary).toHaveLength(AUDIT_TEXT_LIMITS.summary);
    expect(v.detail.startsWith('line one line two')).toBe(true);
    expect(v.detail).toHaveLength(AUDIT_TEXT_LIMITS.detail);
    expect(v.metrics).toEqual({ goodMiBps: 1235 });
  });

  it('names the Debian package of a missing benchmark program', () => {
    expect(missingTool('sysbench', 'CPU speed')).toMatchObject({
      status: 'warn',
      summary: 'CPU speed not measured: sysbench is not installed',
      fix: expect.stringContaining('apt-get install sysbench'),
    });
  });

  it('keeps the expected GPUs: the server list wins, then the previous one, then what was seen', () => {
    expect(nextExpectedGpus(['a', 'b'], ['a'], ['a'])).toEqual(['a', 'b']);
    expect(nextExpectedGpus(undefined, ['a', 'b'], ['a'])).toEqual(['a', 'b']);
    expect(nextExpectedGpus(undefined, undefined, ['a'])).toEqual(['a']);
  });
});
