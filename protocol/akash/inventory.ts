/**
 * Whether a placement group's replicas fit on the nodes, the way Akash's provider reserves them
 * (akash-network/provider `cluster/kube/operators/clients/inventory/inventory.go`, `Adjust` and
 * `tryAdjustGPU`, and `cluster/types/v1beta3/clients/inventory/metrics.go`, `ParseGPUAttributes`,
 * at afc4dd7):
 * - a replica asking for GPUs takes them on one node, from GPUs whose model is named (or `*`) and
 *   whose memory and interface equal what the request names for that model; when the request lists
 *   one model twice, the entry that sorts last is the one that counts (Akash keeps one per model);
 * - once a service's first replica is placed, its request is narrowed to the model it got, so all
 *   of its replicas run on the same model;
 * - nodes are tried in order, services from the last to the first; a node that cannot take the
 *   next replica is left for the next node, and each finished service restarts from the first node.
 * CPU, memory and ephemeral storage are counted when the fleet gives them, and left unlimited
 * when it does not.
 */
import type { GpuGroup } from '../attributes.js';
import { ANY_GPU_MODEL } from './gpu-keys.js';
import type { Attribute, ComputeResources } from './types.js';

export interface NodeCapacity {
  id: string;
  gpus: readonly GpuGroup[];
  cpuMillis?: number;
  memoryBytes?: number;
  ephemeralBytes?: number;
}

export interface InventoryUnit {
  /** Index of the resource unit in its group. */
  index: number;
  count: number;
  resources: ComputeResources;
}

interface ModelRule {
  ram?: string;
  interface?: string;
}

/** `ParseGPUAttributes`: model → what it must have; later keys overwrite earlier ones. */
function modelRules(keys: readonly Attribute[]): Map<string, ModelRule> | undefined {
  const rules = new Map<string, ModelRule>();
  for (const { key } of keys) {
    const tokens = key.split('/');
    if (tokens.length < 4 || tokens.length % 2 !== 0 || tokens[0] !== 'vendor' || tokens[2] !== 'model')
      return undefined;
    if (tokens[1] !== 'nvidia') continue;
    const rule: ModelRule = {};
    for (let i = 4; i + 1 < tokens.length; i += 2) {
      if (tokens[i] === 'ram') rule.ram = tokens[i + 1];
      if (tokens[i] === 'interface') rule.interface = tokens[i + 1];
    }
    rules.set(tokens[3] ?? '', rule);
  }
  return rules;
}

/** GPUs on a node that a request may take, in the node's order, one entry per GPU. */
export function eligibleGpus(gpus: readonly GpuGroup[], keys: readonly Attribute[]): GpuGroup[] {
  const rules = modelRules(keys);
  if (!rules) return [];
  return gpus.filter((g) => {
    if (g.vendor !== 'nvidia' || g.count <= 0) return false;
    const rule = rules.get(g.model) ?? rules.get(ANY_GPU_MODEL);
    if (!rule) return false;
    return (!rule.ram || rule.ram === g.memory) && (!rule.interface || rule.interface === g.interface);
  });
}

/** How many GPUs of `gpus` a request may take (the most one replica could get on that node). */
export function eligibleGpuCount(gpus: readonly GpuGroup[], keys: readonly Attribute[]): number {
  return eligibleGpus(gpus, keys).reduce((n, g) => n + g.count, 0);
}

interface Free {
  id: string;
  gpus: GpuGroup[];
  cpuMillis: number;
  memoryBytes: number;
  ephemeralBytes: number;
}

function ephemeralNeed(res: ComputeResources): { memory: number; ephemeral: number } {
  let memory = res.memoryBytes;
  let ephemeral = 0;
  for (const v of res.storage) {
    const persistent = v.attributes.some((a) => a.key === 'persistent' && a.value === 'true');
    const ram = v.attributes.some((a) => a.key === 'class' && a.value === 'ram');
    if (ram) memory += v.bytes;
    else if (!persistent) ephemeral += v.bytes;
  }
  return { memory, ephemeral };
}

/** `tryAdjust` for one replica: take what it needs from `node`, or leave `node` as it was. */
function tryPlace(node: Free, res: ComputeResources, keys: Attribute[]): Attribute[] | undefined {
  const { memory, ephemeral } = ephemeralNeed(res);
  if (node.cpuMillis < res.cpuMillis || node.memoryBytes < memory || node.ephemeralBytes < ephemeral)
    return undefined;
  let narrowed = keys;
  if (res.gpu.units > 0) {
    let need = res.gpu.units;
    const taken: [GpuGroup, number][] = [];
    for (const g of eligibleGpus(node.gpus, keys)) {
      const n = Math.min(need, g.count);
      taken.push([g, n]);
      need -= n;
      if (need === 0) break;
    }
    const last = taken.at(-1)?.[0];
    if (need > 0 || !last) return undefined;
    for (const [g, n] of taken) g.count -= n;
    const rules = modelRules(keys);
    const rule = rules?.get(last.model) ?? rules?.get(ANY_GPU_MODEL) ?? {};
    let key = `vendor/nvidia/model/${last.model}`;
    if (rule.ram) key += `/ram/${rule.ram}`;
    if (rule.interface) key += `/interface/${rule.interface}`;
    narrowed = [{ key, value: 'true' }];
  }
  node.cpuMillis -= res.cpuMillis;
  node.memoryBytes -= memory;
  node.ephemeralBytes -= ephemeral;
  return narrowed;
}

export interface Allocation {
  /** Node ids per unit index, one entry per placed replica. */
  placed: Map<number, string[]>;
  /** The unit that did not fit, when one did not. */
  unplaced?: { index: number; placed: number; count: number };
}

/** Place every replica of `units` on `nodes` as Akash's inventory would. */
export function allocate(nodes: readonly NodeCapacity[], units: readonly InventoryUnit[]): Allocation {
  const free: Free[] = nodes.map((n) => ({
    id: n.id,
    gpus: n.gpus.map((g) => ({ ...g })),
    cpuMillis: n.cpuMillis ?? Infinity,
    memoryBytes: n.memoryBytes ?? Infinity,
    ephemeralBytes: n.ephemeralBytes ?? Infinity,
  }));
  const pending = units.map((u) => ({ ...u, left: u.count, keys: u.resources.gpu.attributes }));
  const placed = new Map<number, string[]>(units.map((u) => [u.index, []]));
  let progress = true;
  while (pending.length && progress) {
    progress = false;
    nodes: for (const node of free) {
      for (let i = pending.length - 1; i >= 0; i--) {
        const unit = pending[i];
        if (!unit) continue;
        while (unit.left > 0) {
          const narrowed = tryPlace(node, unit.resources, unit.keys);
          if (!narrowed) continue nodes;
          unit.keys = narrowed;
          unit.left -= 1;
          placed.get(unit.index)?.push(node.id);
        }
        pending.splice(i, 1);
        progress = true;
        break nodes;
      }
    }
  }
  const stuck = pending.at(-1);
  if (!stuck) return { placed };
  return { placed, unplaced: { index: stuck.index, placed: stuck.count - stuck.left, count: stuck.count } };
}
