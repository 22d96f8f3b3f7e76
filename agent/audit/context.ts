/**
 * Everything an audit check may use, passed in by the runner (no globals): the exec helper, the
 * audit policy, what the node knows about itself (joined? a workload on the GPU? which GPUs it was
 * approved with?), where it may write, the server, the clocks and the suite's time budget.
 */
import type { AuditPolicy } from '../../protocol/audit-policy.js';
import type { Exec } from '../system/exec.js';

export interface FsSpace {
  sizeBytes: number;
  freeBytes: number;
}

export interface AuditServer {
  url: string;
  /** A fresh connection JWT for this node (unique jti), or undefined when not enrolled. */
  token: () => Promise<string | undefined>;
  serverPin: string | undefined;
}

export interface AuditContext {
  exec: Exec;
  policy: AuditPolicy;
  /** False when the policy lets a node offer CPU only. */
  requireGpu: boolean;
  /** Run the benchmarks (sysbench, fio, the container); false: health checks only. */
  heavy: boolean;
  /** Leases using this node's GPUs right now; benchmarks are skipped while there are any. */
  busyLeases: readonly string[];
  /** The Kubernetes node name once joined. */
  nodeName: string | undefined;
  /** GPU UUIDs the node was approved with (server), given on the command line, or seen by the last audit. */
  expectGpus: readonly string[] | undefined;
  /** Where `expectGpus` came from, for the detail text. */
  expectGpusSource: string;
  /** Kernel events (Xid) newer than this count (the last audit's end), ms since the epoch. */
  since: number | undefined;
  /** The data directory: the fio file and the runtime check's pod spec go here. */
  dataDir: string;
  shmDir: string;
  server: AuditServer | undefined;
  threads: number;
  statfs: (path: string) => Promise<FsSpace>;
  /** Resolve a host name (DNS), timed by the network check. */
  lookup: (host: string) => Promise<void>;
  now: () => number;
  /** Monotonic milliseconds, for measuring. */
  monotonic: () => number;
  sleep: (ms: number) => Promise<void>;
  /** When the whole suite must end (ms since the epoch, on `now`). */
  deadline: number;
  /** Facts one check leaves for a later one (the GPU count for `cluster` and `gpu-runtime`). */
  seen: { gpuUuids?: string[] };
}

/** Milliseconds left before the suite's deadline. */
export const remainingMs = (ctx: Pick<AuditContext, 'deadline' | 'now'>): number =>
  Math.max(0, ctx.deadline - ctx.now());

/** A timeout for one program: what it needs, but never past the deadline. */
export const timeoutMs = (ctx: Pick<AuditContext, 'deadline' | 'now'>, wanted: number): number =>
  Math.max(1, Math.min(wanted, remainingMs(ctx)));

export function busyReason(leases: readonly string[]): string {
  const shown = leases.slice(0, 2).join(', ');
  const more = leases.length > 2 ? ` and ${leases.length - 2} more` : '';
  return `a workload is using this machine's GPU (${shown}${more}); the benchmark would slow it down, so it was not run`;
}
