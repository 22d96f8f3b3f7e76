/**
 * GPU workloads from `k3s kubectl get pods -A -o json --field-selector spec.nodeName=<node>` (the
 * Kubernetes `List` of `Pod`s): pure parsing. A pod counts while it is Running and its containers
 * ask for `nvidia.com/gpu` (limits, else requests: Kubernetes requires them equal for extended
 * resources). Akash pods carry the lease id in labels; other pods are named by namespace.
 */

export const GPU_RESOURCE = 'nvidia.com/gpu';

export const AKASH_LEASE_LABELS = [
  'akash.network/lease.id.owner',
  'akash.network/lease.id.dseq',
  'akash.network/lease.id.gseq',
  'akash.network/lease.id.oseq',
  'akash.network/lease.id.provider',
] as const;

export function kubectlPodsArgs(nodeName: string): string[] {
  return ['kubectl', 'get', 'pods', '-A', '-o', 'json', '--field-selector', `spec.nodeName=${nodeName}`];
}

export interface GpuWorkload {
  leaseId: string;
  gpus: number;
}

type Json = Record<string, unknown>;
const obj = (value: unknown): Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : {};
const arr = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const str = (value: unknown): string => (typeof value === 'string' ? value : '');

/** A quantity such as `"1"` or `2` as a whole number of GPUs; anything else is 0. */
function gpuQuantity(resources: Json): number {
  const value = obj(resources.limits)[GPU_RESOURCE] ?? obj(resources.requests)[GPU_RESOURCE];
  const n = typeof value === 'number' ? value : Number(str(value));
  return Number.isInteger(n) && n > 0 ? n : 0;
}

/** The Akash lease id (`owner/dseq/gseq/oseq/provider`) or `k8s:<namespace>` for other pods. */
export function leaseIdOf(metadata: Json): string {
  const labels = obj(metadata.labels);
  const parts = AKASH_LEASE_LABELS.map((l) => str(labels[l]));
  if (parts.every(Boolean)) return parts.join('/');
  return `k8s:${str(metadata.namespace) || 'default'}`;
}

/** GPU workloads on this node, one entry per lease with its GPUs summed over its running pods. */
export function parseGpuPods(json: string): GpuWorkload[] {
  let list: unknown;
  try {
    list = JSON.parse(json);
  } catch {
    throw new Error('kubectl did not print JSON');
  }
  const byLease = new Map<string, number>();
  for (const item of arr(obj(list).items)) {
    const pod = obj(item);
    if (str(obj(pod.status).phase) !== 'Running') continue;
    const gpus = arr(obj(pod.spec).containers).reduce<number>(
      (sum, c) => sum + gpuQuantity(obj(obj(c).resources)),
      0,
    );
    if (gpus === 0) continue;
    const leaseId = leaseIdOf(obj(pod.metadata)).slice(0, 256);
    byLease.set(leaseId, (byLease.get(leaseId) ?? 0) + gpus);
  }
  return [...byLease].map(([leaseId, gpus]) => ({ leaseId, gpus: Math.min(gpus, 64) }));
}
