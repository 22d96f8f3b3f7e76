/**
 * Akash provider attributes and Kubernetes node labels derived from approved hardware
 * (DESIGN.md "Provider attributes"), in Akash's own naming.
 */
import { NVIDIA_PCI_VENDOR, bytesToGi, lookupGpuModel } from './gpu.js';
import type { HardwareFacts } from './hardware.js';

export interface ProviderAttribute {
  key: string;
  value: string;
}

export interface GpuGroup {
  vendor: string;
  model: string;
  memory: string;
  interface: 'pcie' | 'sxm';
  count: number;
}

export interface ProviderProfile {
  attributes: ProviderAttribute[];
  labels: Record<string, string>;
  gpus: GpuGroup[];
}

/** Group the node's NVIDIA GPUs by model, memory and interface; unknown models are left out. */
export function groupGpus(hardware: HardwareFacts): GpuGroup[] {
  const groups = new Map<string, GpuGroup>();
  for (const gpu of hardware.gpus) {
    if (!gpu.pciId.toLowerCase().startsWith(`${NVIDIA_PCI_VENDOR}:`)) continue;
    const info = lookupGpuModel(gpu.pciId);
    if (!info) continue;
    // The table knows the nominal size; the driver's figure only fills in for a model it lacks.
    const memory = info.memory || (gpu.memoryBytes ? bytesToGi(gpu.memoryBytes) : '');
    const key = `${info.vendor}/${info.model}/${memory}/${info.interface}`;
    const group = groups.get(key);
    if (group) group.count += 1;
    else
      groups.set(key, {
        vendor: info.vendor,
        model: info.model,
        memory,
        interface: info.interface,
        count: 1,
      });
  }
  return [...groups.values()].sort(
    (a, b) => a.model.localeCompare(b.model) || a.memory.localeCompare(b.memory),
  );
}

export function deriveProviderProfile(hardware: HardwareFacts): ProviderProfile {
  const gpus = groupGpus(hardware);
  const attributes: ProviderAttribute[] = [];
  const labels: Record<string, string> = {};
  const counts = new Map<string, number>();
  const add = (key: string, n: number) => counts.set(key, (counts.get(key) ?? 0) + n);
  for (const g of gpus) {
    const base = `capabilities/gpu/vendor/${g.vendor}/model/${g.model}`;
    attributes.push(
      { key: base, value: 'true' },
      { key: `${base}/ram/${g.memory}`, value: 'true' },
      { key: `${base}/interface/${g.interface}`, value: 'true' },
    );
    const label = `akash.network/capabilities.gpu.vendor.${g.vendor}.model.${g.model}`;
    add(label, g.count);
    add(`${label}.ram.${g.memory}`, g.count);
    add(`${label}.interface.${g.interface}`, g.count);
  }
  for (const [key, n] of counts) labels[key] = String(n);
  attributes.push({ key: 'capabilities/cpu/arch', value: 'x86-64' }, { key: 'location-type', value: 'home' });
  // Keep one attribute per key even when several models share a prefix.
  const unique = [...new Map(attributes.map((a) => [a.key, a])).values()];
  return { attributes: unique, labels, gpus };
}

/** The payout GPU classes of a node (`nvidia/rtx4090/24Gi` → count), or `cpu-only`. */
export function gpuClasses(hardware: HardwareFacts): Map<string, number> {
  const classes = new Map<string, number>();
  for (const g of groupGpus(hardware)) {
    const key = `${g.vendor}/${g.model}/${g.memory}`;
    classes.set(key, (classes.get(key) ?? 0) + g.count);
  }
  if (classes.size === 0) classes.set('cpu-only', 1);
  return classes;
}
