/**
 * The `gpu` check on recorded machines with the image's NVIDIA driver 535: what stands between the
 * machine and a working GPU, told apart, with a fix a person can act on. The agent (`preflight
 * --facts`) and the server (`assessHardware`) reach the same verdict from the same facts.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { annotateChecks, loadFactsFile } from '../../agent/cli/gather-preflight.js';
import type { Check } from '../../protocol/hardware.js';
import {
  firstSupportingBranch,
  newerGpuName,
  driverBranch,
  IMAGE_DRIVER_BRANCH,
} from '../../protocol/nvidia-driver.js';
import { DEFAULT_POLICY, resolvePolicy, type Policy } from '../../protocol/policy.js';
import { assessHardware, assessPreflight } from '../../protocol/preflight.js';

const FACTS = join(import.meta.dirname, '../fixtures/agent/facts');

async function gpu(name: string, policy: Policy = { ...DEFAULT_POLICY }): Promise<Check> {
  const facts = await loadFactsFile(join(FACTS, `${name}.json`));
  const checks = annotateChecks(assessPreflight(facts, policy), facts.notes ?? []);
  const check = checks.find((c) => c.id === 'gpu');
  if (!check) throw new Error('no gpu check');
  // The server re-evaluates the same facts to the same verdict.
  expect(assessHardware(facts.hardware, policy).find((c) => c.id === 'gpu')).toEqual(check);
  return check;
}

describe('the gpu check with the NVIDIA driver installed', () => {
  it('fails plainly when no NVIDIA card is on the bus, saying the driver is there (the VM case)', async () => {
    const check = await gpu('driver-no-gpu');
    expect(check).toMatchObject({ status: 'fail', summary: 'No NVIDIA GPU found' });
    expect(check.detail).toContain('The NVIDIA driver 535.309.01 is installed');
    expect(check.detail).toContain("there is no NVIDIA card on this machine's PCI bus");
    expect(check.fix).toMatch(/seated and powered/);
    expect(check.detail).not.toMatch(/couldn't communicate/);
    const relaxed = await gpu('driver-no-gpu', resolvePolicy({ requireGpu: false }));
    expect(relaxed.status).toBe('warn');
  });

  it('quotes "No devices were found" when the driver answers but finds no GPU', async () => {
    const check = await gpu('driver-no-devices');
    expect(check).toMatchObject({ status: 'fail', summary: 'No NVIDIA GPU found' });
    expect(check.detail).toContain('("No devices were found")');
  });

  it('names the branch a GPU needs (RTX 5090: 570) and says the server brings it after approval', async () => {
    const check = await gpu('rtx5090-driver-535');
    expect(check.status).toBe('warn');
    expect(check.summary).toBe('GeForce RTX 5090 needs NVIDIA driver 570 or newer');
    expect(check.detail).toContain(
      'This machine has NVIDIA driver 535.309.01, which does not support GeForce RTX 5090 (PCI id 10de:2b85): NVIDIA supports it from driver 570.',
    );
    expect(check.detail).toContain(
      'installs a newer driver on this machine after the operations team approves it',
    );
    expect(check.fix).toMatch(/^Nothing to do now: continue the setup/);
    // Not in Akash's list either, so ops are told it cannot be advertised by model yet.
    expect(check.detail).toContain("not in Akash's GPU list");
  });

  it('says an H200 needs driver 550, once for both cards, and does not blame the driver for not loading', async () => {
    const check = await gpu('h200-driver-535');
    expect(check.status).toBe('warn');
    expect(check.summary).toBe('NVIDIA H200 needs NVIDIA driver 550 or newer');
    expect(check.detail.match(/NVIDIA H200 \(PCI id 10de:2335\)/g)).toHaveLength(1);
    expect(check.summary).not.toMatch(/did not load/);
    expect(check.detail).not.toMatch(/Secure Boot/);
  });

  it('tells a driver that did not load apart from a card it does not support: Secure Boot is the fix', async () => {
    const check = await gpu('driver-not-loaded');
    expect(check.status).toBe('warn');
    expect(check.summary).toBe('The NVIDIA driver did not load (1 NVIDIA GPU: rtx3090)');
    expect(check.detail).toContain("couldn't communicate with the NVIDIA driver");
    expect(check.detail).toContain('GeForce RTX 3090 (PCI id 10de:2204) was recognised from its PCI id');
    expect(check.fix).toMatch(/^Turn Secure Boot off in the machine's UEFI \(BIOS\) setup, then restart/);
  });

  it('says the driver does not see a card that is on the bus, and how to reseat it', async () => {
    const check = await gpu('rtx4090-gpu-lost');
    expect(check).toMatchObject({
      status: 'warn',
      summary: 'The NVIDIA driver does not see the GPU (1 NVIDIA GPU: rtx4090)',
    });
    expect(check.detail).toContain('finds no GPU ("No devices were found")');
    expect(check.fix).toMatch(/every PCIe power cable is plugged in/);
  });

  it('still passes a machine whose driver lists its GPU', async () => {
    expect(await gpu('rtx4090')).toMatchObject({ status: 'pass', summary: '1 NVIDIA GPU: rtx4090' });
  });
});

describe('the driver support table (from Debian 535, 550, 555 lists and pci.ids)', () => {
  it('knows which branch first runs a GPU', () => {
    expect(IMAGE_DRIVER_BRANCH).toBe(535);
    expect(firstSupportingBranch('10de:2684')).toBe(535); // RTX 4090
    expect(firstSupportingBranch('10de:2321')).toBe(535); // H100 NVL: on the 535 list
    expect(firstSupportingBranch('10de:1eb8')).toBe(535); // T4: only on Debian's nvidia.ids
    expect(firstSupportingBranch('10de:2335')).toBe(550); // H200
    expect(firstSupportingBranch('10de:2702')).toBe(550); // RTX 4080 SUPER
    expect(firstSupportingBranch('10de:2b85')).toBe(570); // RTX 5090
    expect(firstSupportingBranch('10de:2901')).toBe(570); // B200
    expect(firstSupportingBranch('10de:31c2')).toBe(580); // GB300
    expect(firstSupportingBranch('10de:ffff')).toBeUndefined();
    expect(firstSupportingBranch('1002:2684')).toBeUndefined();
    expect(newerGpuName('10DE:2B85')).toBe('GeForce RTX 5090');
    expect(newerGpuName('10de:2684')).toBeUndefined();
    expect(driverBranch('535.309.01')).toBe(535);
    expect(driverBranch('garbage')).toBeUndefined();
  });
});
