/**
 * `cluster`: the k3s agent runs (systemd), the Kubernetes node is Ready, not under pressure, and
 * offers as many `nvidia.com/gpu` as the GPUs the driver sees (`k3s kubectl get node NAME -o json`).
 * Skipped until the node has joined.
 */
import { K3S_UNIT } from '../join/apply-join.js';
import { GPU_RESOURCE } from '../usage/gpu-pods.js';
import { timeoutMs, type AuditContext } from './context.js';
import { combine, skip, verdict, type CheckOutcome, type Problem, type Verdict } from './finding.js';

/** Kubernetes node names are DNS-1123 subdomains. */
export const NODE_NAME_PATTERN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

export interface NodeCondition {
  type: string;
  status: string;
  reason: string;
  message: string;
}

export interface ClusterNode {
  name: string;
  conditions: NodeCondition[];
  allocatableGpus: number;
  unschedulable: boolean;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown): string => (typeof v === 'string' ? v : '');

/** The parts of a Kubernetes `Node` the check reads. */
export function parseClusterNode(json: string): ClusterNode {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch {
    throw new Error('kubectl did not print JSON');
  }
  if (!isObject(doc) || doc.kind !== 'Node') throw new Error('kubectl did not print a Node');
  const status = isObject(doc.status) ? doc.status : {};
  const spec = isObject(doc.spec) ? doc.spec : {};
  const meta = isObject(doc.metadata) ? doc.metadata : {};
  const allocatable = isObject(status.allocatable) ? status.allocatable : {};
  const gpus = Number(text(allocatable[GPU_RESOURCE]) || 0);
  const conditions = (Array.isArray(status.conditions) ? status.conditions : [])
    .filter(isObject)
    .map((c) => ({
      type: text(c.type),
      status: text(c.status),
      reason: text(c.reason),
      message: text(c.message),
    }));
  return {
    name: text(meta.name),
    conditions,
    allocatableGpus: Number.isInteger(gpus) && gpus >= 0 ? gpus : 0,
    unschedulable: spec.unschedulable === true,
  };
}

const PRESSURE = ['MemoryPressure', 'DiskPressure', 'PIDPressure', 'NetworkUnavailable'];

export function assessClusterNode(node: ClusterNode, expectedGpus: number): Verdict {
  const problems: Problem[] = [];
  const ready = node.conditions.find((c) => c.type === 'Ready');
  if (ready?.status !== 'True')
    problems.push({
      status: 'fail',
      summary: `The cluster node ${node.name} is not Ready`,
      detail: `Kubernetes reports Ready=${ready?.status ?? 'missing'}${ready?.reason ? ` (${ready.reason}${ready.message ? `: ${ready.message}` : ''})` : ''}: no workload is placed on this machine.`,
      fix: 'Restart the machine. If the node stays not ready, check its internet connection; the operations team is told as well.',
    });
  for (const c of node.conditions)
    if (PRESSURE.includes(c.type) && c.status === 'True')
      problems.push({
        status: c.type === 'DiskPressure' ? 'fail' : 'warn',
        summary: `The cluster reports ${c.type} on this machine`,
        detail: `Kubernetes set ${c.type}${c.message ? `: ${c.message}` : ''}; it may stop or refuse workloads.`,
        fix:
          c.type === 'DiskPressure'
            ? 'The disk is nearly full: restart the machine to clear temporary files; if it comes back, contact support.'
            : 'Restart the machine; if this comes back, contact support.',
      });
  if (node.allocatableGpus !== expectedGpus)
    problems.push({
      status: 'fail',
      summary: `The cluster sees ${node.allocatableGpus} of ${expectedGpus} GPUs`,
      detail: `The node offers ${node.allocatableGpus} ${GPU_RESOURCE} to workloads, but the driver sees ${expectedGpus} GPU${expectedGpus === 1 ? '' : 's'}. The NVIDIA device plugin is not running or cannot use the driver.`,
      fix: 'Restart the machine. If the count stays wrong, contact support: the operations team can restart the device plugin.',
    });
  if (node.unschedulable)
    problems.push({
      status: 'warn',
      summary: 'The operations team has paused new workloads on this machine (cordoned)',
      detail: 'The node is cordoned: running workloads continue, new ones go elsewhere.',
      fix: 'Nothing to do unless you were not told why: then contact support.',
    });
  return combine(
    problems,
    `Node ${node.name} is Ready with ${node.allocatableGpus} GPU${node.allocatableGpus === 1 ? '' : 's'}`,
    `k3s agent running; ${GPU_RESOURCE} allocatable ${node.allocatableGpus}.`,
    { clusterAllocatableGpus: node.allocatableGpus },
  );
}

export async function runClusterCheck(ctx: AuditContext): Promise<CheckOutcome> {
  const name = ctx.nodeName;
  if (!name) return skip('This machine has not joined the cluster yet.');
  if (!NODE_NAME_PATTERN.test(name))
    return verdict(
      'fail',
      'The recorded cluster node name is not valid',
      `join.json names the node ${JSON.stringify(name)}.`,
      'Contact support: the machine must join the cluster again.',
    );
  const active = await ctx.exec('systemctl', ['is-active', K3S_UNIT], { timeoutMs: timeoutMs(ctx, 10_000) });
  if (!active.ok) {
    const state = active.stdout.trim() || active.problem;
    return verdict(
      'fail',
      `The cluster agent (${K3S_UNIT}) is not running`,
      `systemctl says ${K3S_UNIT} is ${state}: this machine is not part of the cluster right now.`,
      'Restart the machine. If the cluster agent does not come back, contact support: the operations team can see why.',
    );
  }
  const got = await ctx.exec('k3s', ['kubectl', 'get', 'node', name, '-o', 'json'], {
    timeoutMs: timeoutMs(ctx, 30_000),
  });
  if (!got.ok)
    return verdict(
      'fail',
      'The cluster cannot be asked about this machine',
      `k3s kubectl get node ${name} failed: ${got.problem}. The link to the cluster (the overlay network) may be down.`,
      'Check that the machine is online, then restart it. If this stays, contact support.',
    );
  try {
    return assessClusterNode(
      parseClusterNode(got.stdout),
      ctx.seen.gpuUuids?.length ?? ctx.expectGpus?.length ?? 0,
    );
  } catch (error) {
    return verdict(
      'warn',
      'The cluster answered something unexpected',
      `k3s kubectl: ${error instanceof Error ? error.message : String(error)}.`,
      'Contact support with this message if it keeps happening.',
    );
  }
}
