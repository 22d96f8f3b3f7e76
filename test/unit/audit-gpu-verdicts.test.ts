/** The `gpu` verdict for each recorded machine: what the owner reads and what the server stores. */
import { describe, expect, it } from 'vitest';
import { assessGpu, type GpuAssessInput } from '../../agent/audit/gpu-assess.js';
import { classifyNvidiaAnswer } from '../../agent/audit/nvidia-audit.js';
import { parseXidEvents } from '../../agent/audit/xid.js';
import { DEFAULT_AUDIT_THRESHOLDS } from '../../protocol/audit-policy.js';
import { recordedOutput } from '../helpers/recorded.js';

const GPU0 = 'GPU-5a7f3e7c-1b2d-4c9e-8f0a-6d3b2e1c4a90';
const GPU1 = 'GPU-8c1d2e3f-4a5b-4c6d-9e7f-0a1b2c3d4e5f';
const APPROVED = 'the GPUs this machine was approved with';

function machine(dir: string, over: Partial<GpuAssessInput> = {}): GpuAssessInput {
  const stdout =
    dir === 'bin-audit-nodevices' ? 'No devices were found\n' : recordedOutput(dir, 'nvidia-smi');
  const answer = classifyNvidiaAnswer({
    ok: dir !== 'bin-audit-nodevices',
    missing: false,
    exitCode: dir === 'bin-audit-nodevices' ? 6 : 0,
    stdout,
    stderr: '',
    problem: '',
  });
  return {
    answer,
    xids: {
      ok: true,
      events: parseXidEvents(recordedOutput(dir, 'dmesg'), Date.parse('2026-11-02T08:00:00Z')),
    },
    expectGpus: [GPU0],
    expectSource: APPROVED,
    requireGpu: true,
    busy: false,
    thresholds: { ...DEFAULT_AUDIT_THRESHOLDS },
    ...over,
  };
}

describe('gpu verdict', () => {
  it('passes a healthy idle RTX 4090 with its figures', () => {
    const v = assessGpu(machine('bin-audit-rtx4090'));
    expect(v).toMatchObject({
      status: 'pass',
      summary: '1 GPU: NVIDIA GeForce RTX 4090, driver 550.54.15, 38 °C, PCIe gen 4 x16',
      fix: '',
    });
    expect(v.detail).toContain(`Every expected GPU is present (${APPROVED})`);
    expect(v.metrics).toEqual({
      gpuCount: 1,
      gpuMaxTempC: 38,
      gpuMinPcieWidth: 16,
      gpuMinPcieGenMax: 4,
      gpuUncorrectedEccErrors: 0,
      gpuXidErrors: 0,
      gpuHardwareXidErrors: 0,
    });
  });

  it('fails "No devices were found" with the reseat fix and the Xid that explains it', () => {
    const v = assessGpu(machine('bin-audit-nodevices'));
    expect(v.status).toBe('fail');
    expect(v.summary).toBe('The NVIDIA driver sees no GPU (and 1 more problem)');
    expect(v.detail).toContain('answered "No devices were found"');
    expect(v.detail).toContain(`Expected ${GPU0}`);
    expect(v.detail).toContain(
      '1 hardware fault since the last audit: Xid 79 (the GPU has fallen off the bus) at PCI 0000:01:00.',
    );
    expect(v.fix).toMatch(
      /^Switch the machine off at the wall, check that the graphics card is pushed fully/,
    );
    expect(v.metrics).toMatchObject({ gpuCount: 0, gpuHardwareXidErrors: 1 });
  });

  it('fails a machine that lost one of its two approved GPUs, naming its UUID', () => {
    const v = assessGpu(machine('bin-audit-missing-gpu', { expectGpus: [GPU0, GPU1] }));
    expect(v.status).toBe('fail');
    expect(v.summary).toBe(`1 of 2 GPUs missing: ${GPU1} (and 1 more problem)`);
    expect(v.detail).toContain(
      `Expected 2 GPUs (${APPROVED}); the driver now sees 1, and ${GPU1} is not among them.`,
    );
    expect(v.detail).toContain('Xid 79 (the GPU has fallen off the bus)');
    expect(v.detail).not.toContain('Every expected GPU is present');
  });

  it('fails uncorrectable ECC errors', () => {
    const v = assessGpu(machine('bin-audit-ecc'));
    expect(v.status).toBe('fail');
    expect(v.summary).toBe(
      'GPU 0 (NVIDIA GeForce RTX 4090) has 2 uncorrectable memory errors (and 1 more problem)',
    );
    expect(v.fix).toContain("the card's memory is failing: contact support");
    expect(v.metrics.gpuUncorrectedEccErrors).toBe(2);
  });

  it('fails a GPU that throttles for heat at idle, unless a workload is running', () => {
    const v = assessGpu(machine('bin-audit-thermal'));
    expect(v).toMatchObject({
      status: 'fail',
      summary: 'GPU 0 (NVIDIA GeForce RTX 4090) is overheating and slows itself down at idle',
    });
    expect(v.detail).toContain('thermally throttled while idle at 91 °C');
    expect(v.fix).toContain("Check that the card's fans spin");
    const busy = assessGpu(machine('bin-audit-thermal', { busy: true }));
    expect(busy.status).toBe('pass');
    expect(busy.detail).toContain('idle temperature and throttling were not judged');
  });

  it('fails a x4 link and warns about x8 of x16', () => {
    const v = assessGpu(machine('bin-audit-pcie-x4'));
    expect(v).toMatchObject({
      status: 'fail',
      summary: 'GPU 0 (NVIDIA GeForce RTX 4090) runs on a narrow PCIe link: x4',
    });
    expect(v.detail).toContain('4 PCIe lanes of the 16 it supports; at least x8 is needed');
    expect(v.fix).toContain('main (top, x16) slot');
    const lenient = assessGpu(
      machine('bin-audit-pcie-x4', { thresholds: { ...DEFAULT_AUDIT_THRESHOLDS, gpuMinPcieWidth: 4 } }),
    );
    expect(lenient).toMatchObject({
      status: 'warn',
      summary: 'GPU 0 (NVIDIA GeForce RTX 4090) runs at PCIe x4 instead of x16',
    });
  });

  it('fails a hot idle GPU that does not throttle yet, by the policy threshold', () => {
    const warm = assessGpu(
      machine('bin-audit-rtx4090', { thresholds: { ...DEFAULT_AUDIT_THRESHOLDS, gpuMaxIdleTempC: 35 } }),
    );
    expect(warm).toMatchObject({
      status: 'fail',
      summary: 'GPU 0 (NVIDIA GeForce RTX 4090) is too hot at idle: 38 °C',
    });
  });

  it('reports a swapped GPU (the approved one missing, an unknown one present), and passes when nothing is expected', () => {
    const added = assessGpu(machine('bin-audit-rtx4090', { expectGpus: [GPU1] }));
    expect(added.status).toBe('fail');
    expect(added.detail).toContain(
      `A GPU that was not expected (${APPROVED}) is present: NVIDIA GeForce RTX 4090 at 0000:01:00.0.`,
    );
    expect(assessGpu(machine('bin-audit-rtx4090', { expectGpus: undefined })).status).toBe('pass');
  });

  it('counts only hardware Xids against the node; application errors are mentioned', () => {
    const v = assessGpu(
      machine('bin-audit-rtx4090', {
        xids: { ok: true, events: parseXidEvents(recordedOutput('bin-audit-rtx4090', 'dmesg'), undefined) },
      }),
    );
    expect(v.status).toBe('pass');
    expect(v.detail).toContain('Other driver events since the last audit: Xid 13');
    expect(v.metrics).toMatchObject({ gpuXidErrors: 1, gpuHardwareXidErrors: 0 });
  });

  it('says when the kernel log could not be read, without failing for it', () => {
    const v = assessGpu(
      machine('bin-audit-rtx4090', {
        xids: {
          ok: false,
          problem: 'dmesg failed (exit 1): dmesg: read kernel buffer failed: Operation not permitted',
        },
      }),
    );
    expect(v.status).toBe('pass');
    expect(v.detail).toContain('Xid events could not be read (dmesg failed (exit 1)');
  });

  it('fails a missing nvidia-smi naming the Debian package, or passes a CPU-only node the policy allows', () => {
    const missing = machine('bin-audit-rtx4090', { answer: { kind: 'missing' } });
    expect(assessGpu(missing)).toMatchObject({ status: 'fail', summary: 'nvidia-smi is not installed' });
    expect(assessGpu(missing).fix).toContain('apt-get install nvidia-smi');
    const cpuOnly = assessGpu({ ...missing, requireGpu: false, expectGpus: undefined });
    expect(cpuOnly).toMatchObject({ status: 'pass', summary: 'No GPU: this machine offers CPU only' });
  });

  it('fails a driver that is not running, quoting it', () => {
    const v = assessGpu(
      machine('bin-audit-rtx4090', {
        answer: {
          kind: 'no-driver',
          message: "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.",
        },
      }),
    );
    expect(v).toMatchObject({ status: 'fail', summary: 'The NVIDIA driver is not running' });
    expect(v.detail).toContain("couldn't communicate with the NVIDIA driver");
    expect(v.fix).toContain('the server can send the right driver');
  });
});
