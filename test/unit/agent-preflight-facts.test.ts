/** Recorded machines assessed with the shared rules, as the agent does for `preflight --facts`. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadFactsFile, annotateChecks } from '../../agent/cli/gather-preflight.js';
import type { Check } from '../../protocol/hardware.js';
import { DEFAULT_POLICY, resolvePolicy, type Policy } from '../../protocol/policy.js';
import { assessPreflight, hasFailure } from '../../protocol/preflight.js';

const FACTS = join(import.meta.dirname, '../fixtures/agent/facts');

async function assess(name: string, policy: Policy = { ...DEFAULT_POLICY }) {
  const facts = await loadFactsFile(join(FACTS, `${name}.json`));
  const checks = annotateChecks(assessPreflight(facts, policy), facts.notes ?? []);
  const byId = (id: string): Check => {
    const check = checks.find((c) => c.id === id);
    if (!check) throw new Error(`no ${id} check`);
    return check;
  };
  return { checks, byId, failed: hasFailure(checks) };
}

describe('preflight on recorded machines', () => {
  it('passes an x86-64 machine with an RTX 4090 and its driver', async () => {
    const { checks, byId, failed } = await assess('rtx4090');
    expect(failed).toBe(false);
    expect(checks.map((c) => c.id)).toEqual([
      'arch',
      'gpu',
      'memory',
      'disk',
      'cpu',
      'private-network',
      'server',
      'clock',
      'virtualization',
    ]);
    expect(checks.every((c) => c.status === 'pass')).toBe(true);
    expect(byId('gpu').summary).toBe('1 NVIDIA GPU: rtx4090');
    // The USB stick (removable) is not the install disk.
    expect(byId('disk').summary).toContain('nvme0n1');
  });

  it('recognises a GPU without a driver from its PCI id alone (lspci only)', async () => {
    const { byId, failed } = await assess('nodriver-lspci');
    expect(failed).toBe(false);
    expect(byId('gpu')).toMatchObject({ status: 'pass', summary: '1 NVIDIA GPU: rtx3090' });
    expect(byId('gpu').detail).toContain('no driver loaded');
  });

  it('fails an ARM (aarch64) machine and says ARM is not supported yet', async () => {
    const { byId, failed } = await assess('arm-aarch64');
    expect(failed).toBe(true);
    expect(byId('arch')).toMatchObject({ status: 'fail', summary: 'ARM processors are not supported yet' });
    expect(byId('arch').fix).toMatch(/x86-64/);
  });

  it('fails a machine with no GPU, with a fix, and only warns when the policy does not require one', async () => {
    const strict = await assess('no-gpu');
    expect(strict.byId('gpu')).toMatchObject({ status: 'fail', summary: 'No NVIDIA GPU found' });
    expect(strict.byId('gpu').fix).toMatch(/seated and powered/);
    const relaxed = await assess('no-gpu', resolvePolicy({ requireGpu: false }));
    expect(relaxed.byId('gpu').status).toBe('warn');
    expect(relaxed.failed).toBe(false);
  });

  it('fails a LAN on 10.42.x because it overlaps the cluster network', async () => {
    const { byId } = await assess('lan-10-42');
    const check = byId('private-network');
    expect(check.status).toBe('fail');
    expect(check.detail).toContain('10.42.0.0/16');
    expect(check.fix).toMatch(/192\.168\.1\.0\/24/);
  });

  it('warns about a carrier-grade NAT (100.64.x) LAN address', async () => {
    const { byId, failed } = await assess('cgnat');
    expect(byId('private-network')).toMatchObject({
      status: 'warn',
      summary: 'Your network uses a carrier-grade NAT address',
    });
    expect(failed).toBe(false);
  });

  it('warns inside a VM, and fails it when the policy says so', async () => {
    const soft = await assess('vm-kvm');
    expect(soft.byId('virtualization')).toMatchObject({ status: 'warn' });
    expect(soft.byId('virtualization').summary).toContain('KVM');
    expect(soft.failed).toBe(false);
    const hard = await assess('vm-kvm', resolvePolicy({ severity: { virtualization: 'fail' } }));
    expect(hard.byId('virtualization').status).toBe('fail');
  });

  it('fails too little memory and too small a disk, naming both sizes', async () => {
    const { byId } = await assess('small-memory-disk');
    expect(byId('memory')).toMatchObject({ status: 'fail', summary: 'Not enough memory: 4.0 GiB' });
    expect(byId('memory').detail).toContain('8.0 GiB');
    expect(byId('disk')).toMatchObject({ status: 'fail', summary: 'Disk too small: 59.6 GiB' });
  });

  it('fails a clock that is minutes ahead of the server', async () => {
    const { byId } = await assess('clock-ahead');
    expect(byId('clock')).toMatchObject({
      status: 'fail',
      summary: 'The clock is 7 minutes ahead of the server',
    });
  });

  it('names a captive portal that answered instead of the server', async () => {
    const { byId } = await assess('captive-portal');
    expect(byId('server').status).toBe('fail');
    expect(byId('server').summary).toMatch(/captive portal/);
    expect(byId('server').detail).toContain('login.hotel-wifi.example');
  });
});
