/**
 * The audit suite's runner: the checks one after another (cheap health checks first, the heavy
 * benchmarks last so that they never overlap), each within what is left of the suite's time
 * budget, each with its id and its troubleshooting link. A check that throws becomes a warning:
 * the suite always returns a complete result.
 */
import {
  AUDIT_CHECK_IDS,
  AUDIT_TEXT_LIMITS,
  auditDocUrl,
  type AuditCheck,
  type AuditCheckId,
  type AuditSkip,
} from '../../protocol/audit.js';
import { runClusterCheck } from './cluster-check.js';
import { remainingMs, type AuditContext } from './context.js';
import { runCpuCheck } from './cpu-check.js';
import { runDiskCheck } from './disk-check.js';
import { clampText, clampVerdict, verdict, type CheckOutcome } from './finding.js';
import { runGpuCheck } from './gpu-check.js';
import { runGpuRuntimeCheck } from './gpu-runtime-check.js';
import { runMemoryCheck } from './memory-check.js';
import { runNetworkCheck } from './network-check.js';
import { runShmCheck } from './shm-check.js';

export const RUN_ORDER: readonly AuditCheckId[] = [
  'gpu',
  'gpu-runtime',
  'cluster',
  'network',
  'shm',
  'memory',
  'cpu',
  'disk',
];

const RUNNERS: Record<AuditCheckId, (ctx: AuditContext) => Promise<CheckOutcome>> = {
  gpu: runGpuCheck,
  'gpu-runtime': runGpuRuntimeCheck,
  cpu: runCpuCheck,
  memory: runMemoryCheck,
  disk: runDiskCheck,
  shm: runShmCheck,
  network: runNetworkCheck,
  cluster: runClusterCheck,
};

/** Below this a check is not started: it could not finish. */
export const MIN_CHECK_MS = 3_000;

export interface SuiteResult {
  startedAt: string;
  finishedAt: string;
  checks: AuditCheck[];
  skipped: AuditSkip[];
  /** GPU UUIDs the driver saw (kept for the next local audit's expectations). */
  gpuUuids: string[];
}

export interface SuiteOptions {
  /** The server the doc links point to (`<server>/docs/troubleshooting#<id>`). */
  serverUrl: string | undefined;
  /** Only these checks (all by default). */
  only?: readonly AuditCheckId[];
  onProgress?: (id: AuditCheckId, done: number, total: number) => void;
}

async function runOne(id: AuditCheckId, ctx: AuditContext): Promise<CheckOutcome> {
  if (remainingMs(ctx) < MIN_CHECK_MS)
    return {
      kind: 'skip',
      reason: `The audit ran out of time: it may take ${Math.round(ctx.policy.limits.maxSeconds / 60)} min in all.`,
    };
  try {
    return await RUNNERS[id](ctx);
  } catch (error) {
    return verdict(
      'warn',
      'This check could not run',
      `The agent hit an unexpected error: ${error instanceof Error ? error.message : String(error)}.`,
      'Restart the machine; if this keeps happening, contact support with this message.',
    );
  }
}

export async function runAuditSuite(ctx: AuditContext, options: SuiteOptions): Promise<SuiteResult> {
  const startedAt = new Date(ctx.now()).toISOString();
  const wanted = RUN_ORDER.filter((id) => !options.only || options.only.includes(id));
  const checks: AuditCheck[] = [];
  const skipped: AuditSkip[] = [];
  for (const [index, id] of wanted.entries()) {
    options.onProgress?.(id, index, wanted.length);
    const outcome = await runOne(id, ctx);
    if (outcome.kind === 'skip') {
      skipped.push({ id, reason: clampText(outcome.reason, 512) });
      continue;
    }
    const { status, summary, detail, fix, metrics } = clampVerdict(outcome);
    const docUrl = clampText(auditDocUrl(options.serverUrl, id), AUDIT_TEXT_LIMITS.docUrl);
    checks.push({ id, status, summary, detail, fix, docUrl, metrics });
  }
  const order = (id: AuditCheckId) => AUDIT_CHECK_IDS.indexOf(id);
  checks.sort((a, b) => order(a.id) - order(b.id));
  skipped.sort((a, b) => order(a.id) - order(b.id));
  return {
    startedAt,
    finishedAt: new Date(ctx.now()).toISOString(),
    checks,
    skipped,
    gpuUuids: ctx.seen.gpuUuids ?? [],
  };
}
