/**
 * Building an audit's context from what the node knows: the policy, join.json (joined? the node
 * name), the workloads on the GPU right now (the usage meter's own kubectl query), the last audit
 * (Xid window, GPUs seen), the identity for the network probe, and the real clocks and file system.
 */
import { lookup } from 'node:dns/promises';
import { statfs } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { auditPolicyOf, type Policy } from '../../protocol/policy.js';
import { signConnectionToken } from '../control/dial.js';
import { loadJoinState } from '../join/apply-join.js';
import type { Identity } from '../state/state-store.js';
import type { Exec } from '../system/exec.js';
import { kubectlPodsArgs, parseGpuPods } from '../usage/gpu-pods.js';
import { loadAuditRecord } from './audit-state.js';
import type { AuditContext, FsSpace } from './context.js';

export interface PrepareInput {
  exec: Exec;
  policy: Policy;
  stateDir: string;
  heavy: boolean;
  /** From the server's `audit` message or `--expect-gpus`. */
  expectGpus: { uuids: readonly string[]; source: string } | undefined;
  server: { url: string; serverPin: string | undefined } | undefined;
  /** The node's identity once enrolled (signs the network probe's JWTs). */
  node: { nodeId: string; identity: Identity } | undefined;
  /** Leases on the GPU as the daemon already knows them; otherwise asked from k3s here. */
  busyLeases?: readonly string[];
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  shmDir?: string;
}

export async function fsSpace(path: string): Promise<FsSpace> {
  const s = await statfs(path);
  return { sizeBytes: s.blocks * s.bsize, freeBytes: s.bavail * s.bsize };
}

/** Leases using a GPU on this node now; none when k3s cannot say (the audit then runs in full). */
export async function gpuLeases(exec: Exec, nodeName: string): Promise<string[]> {
  const result = await exec('k3s', kubectlPodsArgs(nodeName), { timeoutMs: 20_000 });
  if (!result.ok) return [];
  try {
    return parseGpuPods(result.stdout).map((w) => w.leaseId);
  } catch {
    return [];
  }
}

export async function prepareAudit(input: PrepareInput): Promise<AuditContext> {
  const joined = await loadJoinState(input.stateDir);
  const last = await loadAuditRecord(input.stateDir);
  const nodeName = joined?.nodeName;
  const busyLeases = input.busyLeases ?? (nodeName ? await gpuLeases(input.exec, nodeName) : []);
  const fromLast =
    last && last.expectedGpus.length
      ? { uuids: last.expectedGpus, source: `as recorded by the audit of ${last.finishedAt}` }
      : undefined;
  const expect = input.expectGpus ?? fromLast;
  const node = input.node;
  const started = input.now();
  const audit = auditPolicyOf(input.policy);
  return {
    exec: input.exec,
    policy: audit,
    requireGpu: input.policy.requireGpu,
    heavy: input.heavy,
    busyLeases,
    nodeName,
    expectGpus: expect?.uuids,
    expectGpusSource: expect?.source ?? '',
    since: last?.serverAuditAt ? Date.parse(last.serverAuditAt) || undefined : undefined,
    dataDir: resolve(input.stateDir),
    shmDir: input.shmDir ?? '/dev/shm',
    server: input.server && {
      url: input.server.url,
      serverPin: input.server.serverPin,
      token: async () => (node ? signConnectionToken(node.identity, node.nodeId, input.now()) : undefined),
    },
    threads: availableParallelism(),
    statfs: fsSpace,
    lookup: async (host) => {
      await lookup(host);
    },
    now: input.now,
    monotonic: () => performance.now(),
    sleep: input.sleep,
    deadline: started + audit.limits.maxSeconds * 1000,
    seen: {},
  };
}
