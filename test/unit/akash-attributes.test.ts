import { describe, expect, it } from 'vitest';
import { gpuRequestOffered } from '../../protocol/akash/attribute-match.js';
import { gpuAttributeKeys } from '../../protocol/akash/gpu-keys.js';
import { PROVIDER_KEY_PATTERN } from '../../protocol/akash/key-pattern.js';
import table from '../../protocol/akash-gpus.json' with { type: 'json' };
import { deriveProviderProfile, gpuClasses } from '../../protocol/attributes.js';
import { lookupGpuModel } from '../../protocol/gpu.js';
import type { HardwareFacts } from '../../protocol/hardware.js';
import { isValidLabelKey, isValidLabelValue, labelKeyProblem } from '../../protocol/kube-labels.js';

const gpu = (pciId: string) => ({ vendor: 'nvidia', model: 'x', pciId });
const hw = (gpus: HardwareFacts['gpus']): HardwareFacts => ({
  cpu: { arch: 'x86_64', vendor: 'GenuineIntel', model: 'i9', cores: 8, threads: 16 },
  memory: { totalBytes: 2 ** 35 },
  disks: [],
  gpus,
  network: { interfaces: [] },
  os: { kernel: '6.1', distro: 'Debian' },
  virtualization: 'none',
});
const NVIDIA_DEVICES = Object.keys(table['10de'].devices).map((id) => `10de:${id}`);

describe('provider attributes in Akash naming', () => {
  it('names two RTX 4090s and an A100 SXM4 as Akash does, with the combined key and the node labels', () => {
    expect(lookupGpuModel('10DE:2684')).toEqual({
      vendor: 'nvidia',
      model: 'rtx4090',
      interface: 'pcie',
      memory: '24Gi',
    });
    const profile = deriveProviderProfile(hw([gpu('10de:2684'), gpu('10de:2684'), gpu('10de:20b2')]));
    expect(profile.attributes.map((a) => `${a.key}=${a.value}`)).toEqual([
      'capabilities/gpu/vendor/nvidia/model/a100=true',
      'capabilities/gpu/vendor/nvidia/model/a100/ram/80Gi=true',
      'capabilities/gpu/vendor/nvidia/model/a100/interface/sxm=true',
      'capabilities/gpu/vendor/nvidia/model/a100/ram/80Gi/interface/sxm=true',
      'capabilities/gpu/vendor/nvidia/model/rtx4090=true',
      'capabilities/gpu/vendor/nvidia/model/rtx4090/ram/24Gi=true',
      'capabilities/gpu/vendor/nvidia/model/rtx4090/interface/pcie=true',
      'capabilities/gpu/vendor/nvidia/model/rtx4090/ram/24Gi/interface/pcie=true',
      'capabilities/cpu/arch=x86-64',
      'location-type=home',
      'host=akash',
    ]);
    expect(profile.labels).toEqual({
      'akash.network': 'true',
      'nvidia.com/gpu.present': 'true',
      'akash.network/capabilities.gpu.vendor.nvidia.model.a100': '1',
      'akash.network/capabilities.gpu.vendor.nvidia.model.a100.ram.80Gi': '1',
      'akash.network/capabilities.gpu.vendor.nvidia.model.a100.interface.sxm': '1',
      'akash.network/capabilities.gpu.vendor.nvidia.model.rtx4090': '2',
      'akash.network/capabilities.gpu.vendor.nvidia.model.rtx4090.ram.24Gi': '2',
      'akash.network/capabilities.gpu.vendor.nvidia.model.rtx4090.interface.pcie': '2',
    });
    expect(profile.droppedLabels).toEqual([]);
  });

  it('writes every SXM generation (SXM, SXM2 … SXM5) as sxm', () => {
    // v100 SXM2, v100 SXM3, a100 SXM, a100 SXM4, h100 SXM5
    for (const id of ['10de:1db1', '10de:1db8', '10de:20b3', '10de:20b0', '10de:2330']) {
      const { attributes, labels, gpus } = deriveProviderProfile(hw([gpu(id)]));
      expect(gpus[0]?.interface).toBe('sxm');
      expect(attributes.some((a) => /\/interface\/sxm$/.test(a.key))).toBe(true);
      expect(Object.keys(labels).some((k) => k.endsWith('.interface.sxm'))).toBe(true);
      expect(JSON.stringify({ attributes, labels })).not.toMatch(/SXM|sxm[0-9]/);
    }
  });

  it('labels a machine without a listed GPU only as an Akash node', () => {
    for (const gpus of [[], [gpu('10de:ffff')]]) {
      const profile = deriveProviderProfile(hw(gpus));
      expect(profile.labels).toEqual({ 'akash.network': 'true' });
      expect(profile.attributes).toEqual([
        { key: 'capabilities/cpu/arch', value: 'x86-64' },
        { key: 'location-type', value: 'home' },
        { key: 'host', value: 'akash' },
      ]);
    }
    expect([...gpuClasses(hw([gpu('10de:2684'), gpu('10de:2684')]))]).toEqual([['nvidia/rtx4090/24Gi', 2]]);
    expect([...gpuClasses(hw([]))]).toEqual([['cpu-only', 1]]);
  });

  it('leaves out a label Kubernetes would refuse, says why, and keeps the rest', () => {
    const profile = deriveProviderProfile(hw([gpu('10de:27b0')])); // rtx4000sffada
    expect(profile.droppedLabels).toEqual([
      {
        key: 'akash.network/capabilities.gpu.vendor.nvidia.model.rtx4000sffada.interface.pcie',
        reason: 'the name after the prefix has 65 characters; Kubernetes allows 63',
      },
    ]);
    expect(profile.labels['akash.network/capabilities.gpu.vendor.nvidia.model.rtx4000sffada.ram.20Gi']).toBe(
      '1',
    );
    // The attribute has no such limit and stays.
    expect(profile.attributes).toContainEqual({
      key: 'capabilities/gpu/vendor/nvidia/model/rtx4000sffada/interface/pcie',
      value: 'true',
    });
  });

  it('derives, for every NVIDIA GPU in Akash’s table, valid labels and on-chain-valid attribute keys', () => {
    for (const id of NVIDIA_DEVICES) {
      const profile = deriveProviderProfile(hw([gpu(id), gpu(id)]));
      for (const [key, value] of Object.entries(profile.labels)) {
        expect(isValidLabelKey(key), key).toBe(true);
        expect(isValidLabelValue(value), `${key}=${value}`).toBe(true);
      }
      for (const a of profile.attributes) expect(a.key, id).toMatch(PROVIDER_KEY_PATTERN);
    }
  });

  it('offers every GPU in the table to each of the four GPU requests an SDL can make of it', () => {
    for (const id of NVIDIA_DEVICES) {
      const { attributes, gpus } = deriveProviderProfile(hw([gpu(id)]));
      const g = gpus[0];
      if (!g) throw new Error(`no group for ${id}`);
      const asks = [
        { model: g.model },
        { model: g.model, ram: g.memory },
        { model: g.model, interface: g.interface },
        { model: g.model, ram: g.memory, interface: g.interface },
      ];
      for (const ask of asks)
        expect(gpuRequestOffered(gpuAttributeKeys([ask]), attributes), `${id} ${JSON.stringify(ask)}`).toBe(
          true,
        );
      const other = g.interface === 'pcie' ? 'sxm' : 'pcie';
      expect(gpuRequestOffered(gpuAttributeKeys([{ model: g.model, interface: other }]), attributes)).toBe(
        false,
      );
    }
  });
});

describe('Kubernetes label syntax', () => {
  it('accepts what Kubernetes accepts and names what it refuses', () => {
    for (const key of ['akash.network', 'nvidia.com/gpu.present', 'example.com/my_app-1.x', 'a', 'A9'])
      expect(labelKeyProblem(key), key).toBeUndefined();
    expect(labelKeyProblem(`x/${'a'.repeat(64)}`)).toBe(
      'the name after the prefix has 64 characters; Kubernetes allows 63',
    );
    expect(labelKeyProblem('-bad')).toMatch(/start and end with a letter or digit/);
    expect(labelKeyProblem('bad.')).toMatch(/start and end with a letter or digit/);
    expect(labelKeyProblem('Example.com/x')).toMatch(/not a DNS subdomain/);
    expect(labelKeyProblem('a/b/c')).toMatch(/start and end|letters, digits/);
    expect(labelKeyProblem(`${'a'.repeat(254)}/x`)).toMatch(/at most 253/);
    for (const value of ['', 'true', '12', 'a-b_c.d']) expect(isValidLabelValue(value), value).toBe(true);
    for (const value of ['with space', '-x', 'x\n', 'a'.repeat(64)])
      expect(isValidLabelValue(value), value).toBe(false);
  });
});
