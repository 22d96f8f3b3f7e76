/**
 * `gpu` (I/O): the nvidia-smi health query and the kernel log's Xid events, judged by
 * `assessGpu`. Leaves the UUIDs it saw for the `cluster` and `gpu-runtime` checks.
 */
import type { AuditContext } from './context.js';
import { timeoutMs } from './context.js';
import type { CheckOutcome } from './finding.js';
import { assessGpu, type GpuAssessInput } from './gpu-assess.js';
import { NVIDIA_AUDIT_ARGS, classifyNvidiaAnswer } from './nvidia-audit.js';
import { DMESG_ARGS, parseXidEvents } from './xid.js';

async function readXids(ctx: AuditContext): Promise<GpuAssessInput['xids']> {
  const result = await ctx.exec('dmesg', DMESG_ARGS, { timeoutMs: timeoutMs(ctx, 10_000) });
  if (!result.ok) return { ok: false, problem: result.problem };
  return { ok: true, events: parseXidEvents(result.stdout, ctx.since) };
}

export async function runGpuCheck(ctx: AuditContext): Promise<CheckOutcome> {
  const result = await ctx.exec('nvidia-smi', NVIDIA_AUDIT_ARGS, { timeoutMs: timeoutMs(ctx, 20_000) });
  const answer = classifyNvidiaAnswer(result);
  if (answer.kind === 'gpus') ctx.seen.gpuUuids = answer.gpus.map((g) => g.uuid);
  else ctx.seen.gpuUuids = [];
  const xids = await readXids(ctx);
  return assessGpu({
    answer,
    xids,
    expectGpus: ctx.expectGpus,
    expectSource: ctx.expectGpusSource,
    requireGpu: ctx.requireGpu,
    busy: ctx.busyLeases.length > 0,
    thresholds: ctx.policy.thresholds,
  });
}
