/**
 * `memory`: sysbench's memory bandwidth, writing then reading 1 MiB blocks on every thread; the
 * slower of the two must reach the policy's minimum. Skipped while a workload uses the GPU.
 */
import type { AuditThresholds } from '../../protocol/audit-policy.js';
import { busyReason, type AuditContext } from './context.js';
import { figure, skip, verdict, type CheckOutcome, type Verdict } from './finding.js';
import { parseSysbenchMemory, sysbenchMemoryArgs, type SysbenchMemoryResult } from './sysbench.js';
import { runTool } from './tool.js';

export function assessMemory(
  write: SysbenchMemoryResult,
  read: SysbenchMemoryResult,
  t: AuditThresholds,
): Verdict {
  const metrics = { memoryWriteMiBps: write.mibPerSec, memoryReadMiBps: read.mibPerSec };
  const slower = Math.min(write.mibPerSec, read.mibPerSec);
  const how = `sysbench moved 1 MiB blocks on ${write.threads} threads: ${figure(write.mibPerSec)} MiB/s writing, ${figure(read.mibPerSec)} MiB/s reading.`;
  if (slower >= t.memoryMinMiBps)
    return verdict(
      'pass',
      `Memory: ${figure(write.mibPerSec)} MiB/s write, ${figure(read.mibPerSec)} MiB/s read`,
      how,
      '',
      metrics,
    );
  return verdict(
    'fail',
    `Memory is much slower than it should be: ${figure(slower)} MiB/s`,
    `${how} A healthy machine reaches at least ${figure(t.memoryMinMiBps)} MiB/s. A memory module that is failing or badly seated, a BIOS running memory in a safe slow mode, or a machine short of memory and swapping can cause this.`,
    'Switch the machine off, reseat the memory modules (same slots as the mainboard manual recommends), load the BIOS defaults (or the XMP/EXPO profile the modules are rated for), then ask for a new check.',
    metrics,
  );
}

export async function runMemoryCheck(ctx: AuditContext): Promise<CheckOutcome> {
  if (ctx.busyLeases.length) return skip(`Memory benchmark skipped: ${busyReason(ctx.busyLeases)}.`);
  if (!ctx.heavy) return skip('Memory benchmark skipped: this was a light audit (health checks only).');
  const seconds = ctx.policy.limits.memorySeconds;
  const results: SysbenchMemoryResult[] = [];
  for (const oper of ['write', 'read'] as const) {
    const run = await runTool(
      ctx,
      'sysbench',
      sysbenchMemoryArgs(ctx.threads, seconds, oper),
      seconds * 1000 + 30_000,
      'Memory speed',
    );
    if (!run.ok) return run.outcome;
    try {
      results.push(parseSysbenchMemory(run.stdout));
    } catch (error) {
      return verdict(
        'warn',
        'Memory speed not measured: sysbench printed something unexpected',
        error instanceof Error ? error.message : String(error),
        'Update Home Node; if this keeps happening, contact support with this message.',
      );
    }
  }
  const [write, read] = results;
  return assessMemory(write!, read!, ctx.policy.thresholds);
}
