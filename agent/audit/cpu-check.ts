/**
 * `cpu`: sysbench's fixed-work CPU benchmark on every thread; the score per thread must reach the
 * policy's minimum. Skipped while a workload uses the GPU, or when the audit is light.
 */
import type { AuditThresholds } from '../../protocol/audit-policy.js';
import { busyReason, type AuditContext } from './context.js';
import { figure, skip, verdict, type CheckOutcome, type Verdict } from './finding.js';
import { CPU_MAX_PRIME, parseSysbenchCpu, sysbenchCpuArgs, type SysbenchCpuResult } from './sysbench.js';
import { runTool } from './tool.js';

export function assessCpu(result: SysbenchCpuResult, seconds: number, t: AuditThresholds): Verdict {
  const threads = Math.max(1, result.threads);
  const perThread = result.eventsPerSec / threads;
  const metrics = {
    cpuEventsPerSec: result.eventsPerSec,
    cpuEventsPerSecPerThread: perThread,
    cpuThreads: threads,
    ...(result.latencyP95Ms === undefined ? {} : { cpuLatencyP95Ms: result.latencyP95Ms }),
  };
  const how = `sysbench computed primes up to ${CPU_MAX_PRIME} on ${threads} thread${threads > 1 ? 's' : ''} for ${seconds} s: ${figure(result.eventsPerSec)} events/s in all.`;
  if (perThread >= t.cpuMinEventsPerSecPerThread)
    return verdict(
      'pass',
      `${figure(perThread)} events/s per thread on ${threads} threads`,
      how,
      '',
      metrics,
    );
  return verdict(
    'fail',
    `The processor is much slower than it should be: ${figure(perThread)} events/s per thread`,
    `${how} A healthy processor reaches at least ${figure(t.cpuMinEventsPerSecPerThread)} per thread. This usually means it is overheating and slowing itself down, a power-saving limit is set in the BIOS, or another program keeps it busy.`,
    'Check that the processor fan spins and the cooler is free of dust; in the BIOS/UEFI setup turn off power-saving limits ("Eco mode"); make sure no other heavy program runs on this machine. Then ask for a new check.',
    metrics,
  );
}

export async function runCpuCheck(ctx: AuditContext): Promise<CheckOutcome> {
  if (ctx.busyLeases.length) return skip(`CPU benchmark skipped: ${busyReason(ctx.busyLeases)}.`);
  if (!ctx.heavy) return skip('CPU benchmark skipped: this was a light audit (health checks only).');
  const seconds = ctx.policy.limits.cpuSeconds;
  const run = await runTool(
    ctx,
    'sysbench',
    sysbenchCpuArgs(ctx.threads, seconds),
    seconds * 1000 + 30_000,
    'CPU speed',
  );
  if (!run.ok) return run.outcome;
  try {
    return assessCpu(parseSysbenchCpu(run.stdout), seconds, ctx.policy.thresholds);
  } catch (error) {
    return verdict(
      'warn',
      'CPU speed not measured: sysbench printed something unexpected',
      error instanceof Error ? error.message : String(error),
      'Update Home Node; if this keeps happening, contact support with this message.',
    );
  }
}
