/**
 * The real agent CLI with stand-in nvidia-smi, modinfo and lspci that answer as the image's NVIDIA
 * driver 535 does on each kind of machine: the driver's state lands in the facts and the gpu check
 * says what stands in the way, in words, with the programs called as documented.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Check, NvidiaDriverFacts } from '../../protocol/hardware.js';
import { FIXTURES, runAgent, standInPath, tempDir } from './agent-support.js';

interface PreflightJson {
  checks: Check[];
  facts: { hardware: { nvidiaDriver?: NvidiaDriverFacts; gpus: { pciId: string }[] } };
}

async function preflight(standins: string) {
  const dir = tempDir();
  const log = join(dir, 'argv.log');
  const run = await runAgent(['preflight', '--json', '--state-dir', dir], {
    path: standInPath(join(FIXTURES, standins)),
    env: { HOMENODE_STANDIN_LOG: log },
  });
  const json = JSON.parse(run.stdout) as PreflightJson;
  const gpu = json.checks.find((c) => c.id === 'gpu');
  if (!gpu) throw new Error('no gpu check');
  const calls = readFileSync(log, 'utf8').trim().split('\n').sort();
  return { run, json, gpu, calls };
}

describe('agent preflight with the NVIDIA driver installed', () => {
  it('on a machine without an NVIDIA card: fails, and says the driver is installed but has no card', async () => {
    const { run, json, gpu, calls } = await preflight('bin-nogpu');
    expect(run.code).toBe(1);
    expect(json.facts.hardware.nvidiaDriver).toEqual({
      state: 'not-loaded',
      version: '535.309.01',
      exitCode: 9,
      message:
        "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.",
    });
    expect(gpu).toMatchObject({ status: 'fail', summary: 'No NVIDIA GPU found' });
    expect(gpu.detail).toContain('The NVIDIA driver 535.309.01 is installed, but there is no NVIDIA card');
    // modinfo is asked only because nvidia-smi failed.
    expect(calls).toEqual([
      'lspci -nn',
      'modinfo -F version nvidia-current',
      'nvidia-smi --query-gpu=index,name,uuid,pci.bus_id,pci.device_id,memory.total,driver_version --format=csv,noheader,nounits',
    ]);
  });

  it('when the driver finds no devices: quotes nvidia-smi', async () => {
    const { json, gpu } = await preflight('bin-nodevices');
    expect(json.facts.hardware.nvidiaDriver).toMatchObject({ state: 'no-devices', exitCode: 6 });
    expect(gpu.detail).toContain('("No devices were found")');
  });

  it('on an RTX 5090: warns that it needs driver 570, which the server brings after approval; enrollment may go on', async () => {
    const { run, json, gpu } = await preflight('bin-rtx5090');
    expect(json.facts.hardware.gpus.map((g) => g.pciId)).toEqual(['10de:2b85']);
    expect(gpu).toMatchObject({
      status: 'warn',
      summary: 'GeForce RTX 5090 needs NVIDIA driver 570 or newer',
    });
    expect(gpu.fix).toMatch(/^Nothing to do now/);
    expect(run.stdout).not.toMatch(/Secure Boot/);
  });

  it('with the RTX 4090 driver stand-in: passes, and never asks modinfo', async () => {
    const { json, gpu, calls } = await preflight('bin-rtx4090');
    expect(json.facts.hardware.nvidiaDriver).toEqual({ state: 'loaded', version: '550.54.15' });
    expect(gpu).toMatchObject({ status: 'pass', summary: '1 NVIDIA GPU: rtx4090' });
    expect(calls.some((c) => c.startsWith('modinfo'))).toBe(false);
  });
});
