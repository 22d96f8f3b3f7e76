/**
 * Akash provider attributes and Kubernetes node labels derived from approved hardware
 * (DESIGN.md "Provider attributes"), in Akash's own naming. What Akash reads, and where:
 *
 * - Node labels are what Akash's inventory operator writes on each node it includes
 *   (akash-network/provider, `operator/inventory/node-discovery.go`, `generateLabels`, at afc4dd7):
 *   `akash.network=true`; per GPU `akash.network/capabilities.gpu.vendor.<vendor>.model.<model>`,
 *   and the same key with `.ram.<memory>` and with `.interface.<interface>` appended, each valued
 *   with the number of such GPUs on the node; and `nvidia.com/gpu.present=true` when an NVIDIA GPU
 *   is present (the NVIDIA device plugin schedules only on nodes so labelled). The prefixes come
 *   from `cluster/kube/builder/builder.go` (`AkashManagedLabelName`, `AkashServiceCapabilityGPU`);
 *   the interface is lower-cased and any `sxm…` becomes `sxm` (`cluster/types/v1beta3/types.go`,
 *   `FilterGPUInterface`). The operator replaces every label under `akash.network` and
 *   `nvidia.com/gpu.present` with its own, so ours must agree with it.
 * - Provider attributes are matched by the bid engine and by the chain against the keys that an SDL's
 *   GPU request becomes (akash-network/chain-sdk `go/sdl/gpu.go`, at 55f1c68):
 *   `vendor/nvidia/model/<m>`, `…/ram/<r>`, `…/interface/<i>`, and `…/ram/<r>/interface/<i>` when
 *   both are named, each looked up under `capabilities/gpu/`. See docs/placement.md.
 */
import { NVIDIA_PCI_VENDOR, bytesToGi, lookupGpuModel } from './gpu.js';
import type { HardwareFacts } from './hardware.js';
import { isValidLabelValue, labelKeyProblem } from './kube-labels.js';

export interface ProviderAttribute {
  key: string;
  value: string;
}

export interface GpuGroup {
  vendor: string;
  model: string;
  /** Akash memory notation (`24Gi`), or '' when neither the table nor the driver knows it. */
  memory: string;
  interface: 'pcie' | 'sxm';
  count: number;
}

export interface DroppedLabel {
  key: string;
  /** Why Kubernetes would refuse it, in words. */
  reason: string;
}

export interface ProviderProfile {
  attributes: ProviderAttribute[];
  labels: Record<string, string>;
  gpus: GpuGroup[];
  /**
   * Labels Akash's naming calls for that Kubernetes would refuse (a model name long enough to push
   * the name past 63 characters, e.g. `…model.rtx4000sffada.interface.pcie`). They are left out,
   * because a single invalid `--node-labels` entry stops the kubelet and the node never joins.
   */
  droppedLabels: DroppedLabel[];
}

/** Akash's managed-node label, and the label the NVIDIA device plugin looks for. */
export const AKASH_NODE_LABEL = 'akash.network';
export const NVIDIA_GPU_PRESENT_LABEL = 'nvidia.com/gpu.present';
const GPU_LABEL_PREFIX = 'akash.network/capabilities.gpu';

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

/** The `capabilities/gpu/...` attributes one GPU group offers, as Akash's SDL keys look them up. */
export function gpuGroupAttributes(g: GpuGroup): ProviderAttribute[] {
  const base = `capabilities/gpu/vendor/${g.vendor}/model/${g.model}`;
  const keys = [base];
  if (g.memory) keys.push(`${base}/ram/${g.memory}`);
  keys.push(`${base}/interface/${g.interface}`);
  if (g.memory) keys.push(`${base}/ram/${g.memory}/interface/${g.interface}`);
  return keys.map((key) => ({ key, value: 'true' }));
}

function gpuLabelCounts(gpus: GpuGroup[]): Map<string, number> {
  const counts = new Map<string, number>();
  const add = (key: string, n: number) => counts.set(key, (counts.get(key) ?? 0) + n);
  for (const g of gpus) {
    const label = `${GPU_LABEL_PREFIX}.vendor.${g.vendor}.model.${g.model}`;
    add(label, g.count);
    if (g.memory) add(`${label}.ram.${g.memory}`, g.count);
    add(`${label}.interface.${g.interface}`, g.count);
  }
  return counts;
}

export function deriveProviderProfile(hardware: HardwareFacts): ProviderProfile {
  const gpus = groupGpus(hardware);
  const wanted: [string, string][] = [[AKASH_NODE_LABEL, 'true']];
  if (gpus.some((g) => g.vendor === 'nvidia')) wanted.push([NVIDIA_GPU_PRESENT_LABEL, 'true']);
  for (const [key, n] of gpuLabelCounts(gpus)) wanted.push([key, String(n)]);

  const labels: Record<string, string> = {};
  const droppedLabels: DroppedLabel[] = [];
  for (const [key, value] of wanted) {
    const problem = labelKeyProblem(key) ?? (isValidLabelValue(value) ? undefined : 'the value is not valid');
    if (problem) droppedLabels.push({ key, reason: problem });
    else labels[key] = value;
  }

  const attributes = [
    ...gpus.flatMap(gpuGroupAttributes),
    { key: 'capabilities/cpu/arch', value: 'x86-64' },
    { key: 'location-type', value: 'home' },
    { key: 'host', value: 'akash' },
  ];
  // Keep one attribute per key even when several groups share a model.
  const unique = [...new Map(attributes.map((a) => [a.key, a])).values()];
  return { attributes: unique, labels, gpus, droppedLabels };
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
