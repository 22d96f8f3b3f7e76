/**
 * `disk`: free space on the data disk (always), then fio's random and sequential I/O on a bounded
 * test file in the data directory, removed afterwards (also a leftover from an interrupted run).
 * The bytes written are planned against `limits.maxWriteBytes` before anything is written.
 */
import { randomBytes } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { diskWriteBytes, type AuditLimits, type AuditThresholds } from '../../protocol/audit-policy.js';
import { busyReason, timeoutMs, type AuditContext, type FsSpace } from './context.js';
import {
  combine,
  figure,
  gib,
  missingTool,
  verdict,
  type CheckOutcome,
  type Problem,
  type Verdict,
} from './finding.js';
import { execBenchmark } from './tool.js';
import { FIO_SAFE_PATH, diskFigures, fioArgs, parseFioJson, type DiskFigures, type FioPlan } from './fio.js';

const MiB = 1024 * 1024;
export const FIO_FILE_PREFIX = 'homenode-audit-';

const SLOW_DISK_FIX =
  'Home Node needs a solid-state disk (SSD or NVMe) in good health. Check the disk cable and that the disk is not a USB stick or an old hard disk; replace a failing disk, then ask for a new check.';

export function assessDisk(
  figures: DiskFigures | undefined,
  space: FsSpace,
  t: AuditThresholds,
  note: string,
): Verdict {
  const metrics = {
    diskFreeBytes: space.freeBytes,
    ...(figures
      ? {
          diskSeqWriteMiBps: figures.seqWriteMiBps,
          diskSeqReadMiBps: figures.seqReadMiBps,
          diskRandReadIops: figures.randReadIops,
          diskRandWriteIops: figures.randWriteIops,
          diskWrittenBytes: figures.writtenBytes,
        }
      : {}),
  };
  const problems: Problem[] = [];
  if (space.freeBytes < t.diskMinFreeBytes) {
    problems.push({
      status: 'fail',
      summary: `The data disk is almost full: ${gib(space.freeBytes)} free`,
      detail: `Workloads need room for their images and data: at least ${gib(t.diskMinFreeBytes)} must be free, and ${gib(space.freeBytes)} of ${gib(space.sizeBytes)} is.`,
      fix: 'Nothing of your own should be stored on this disk. Restart the machine (temporary files are cleared); if the disk fills up again, contact support. A larger disk also fixes it.',
    });
  }
  const slow = (summary: string, detail: string) =>
    problems.push({ status: 'fail', summary, detail, fix: SLOW_DISK_FIX });
  if (figures) {
    if (figures.randReadIops < t.diskMinRandReadIops)
      slow(
        `The disk is too slow for random reads: ${figure(figures.randReadIops)} IOPS`,
        `4 KiB random reads reached ${figure(figures.randReadIops)} per second; at least ${figure(t.diskMinRandReadIops)} are needed.`,
      );
    if (figures.randWriteIops < t.diskMinRandWriteIops)
      slow(
        `The disk is too slow for random writes: ${figure(figures.randWriteIops)} IOPS`,
        `4 KiB random writes reached ${figure(figures.randWriteIops)} per second; at least ${figure(t.diskMinRandWriteIops)} are needed.`,
      );
    if (figures.seqReadMiBps < t.diskMinSeqReadMiBps)
      slow(
        `The disk reads too slowly: ${figure(figures.seqReadMiBps)} MiB/s`,
        `Sequential reads reached ${figure(figures.seqReadMiBps)} MiB/s; at least ${figure(t.diskMinSeqReadMiBps)} MiB/s are needed.`,
      );
    if (figures.seqWriteMiBps < t.diskMinSeqWriteMiBps)
      slow(
        `The disk writes too slowly: ${figure(figures.seqWriteMiBps)} MiB/s`,
        `Sequential writes reached ${figure(figures.seqWriteMiBps)} MiB/s; at least ${figure(t.diskMinSeqWriteMiBps)} MiB/s are needed.`,
      );
  }
  const summary = figures
    ? `${gib(space.freeBytes)} free; ${figure(figures.randReadIops)} / ${figure(figures.randWriteIops)} IOPS random read/write, ${figure(figures.seqReadMiBps)} / ${figure(figures.seqWriteMiBps)} MiB/s sequential`
    : `${gib(space.freeBytes)} free on the data disk`;
  return combine(problems, summary, note, metrics);
}

/** The fio plan within the write budget and the free space, or why the benchmark cannot run. */
export function planDiskBenchmark(
  dataDir: string,
  limits: AuditLimits,
  space: FsSpace,
  fileName: string,
): { ok: true; plan: FioPlan; plannedBytes: number } | { ok: false; reason: string } {
  if (!FIO_SAFE_PATH.test(dataDir))
    return {
      ok: false,
      reason: `the data directory ${JSON.stringify(dataDir)} is not a plain absolute path fio can use`,
    };
  const randWriteBytes = Math.min(limits.diskRandWriteBytes, Math.floor(limits.maxWriteBytes / 4));
  const byBudget = Math.floor((limits.maxWriteBytes - randWriteBytes) / 2);
  const bySpace = Math.floor(space.freeBytes / 4);
  const fileBytes = Math.floor(Math.min(limits.diskFileBytes, byBudget, bySpace) / MiB) * MiB;
  if (fileBytes < 8 * MiB || randWriteBytes < MiB)
    return {
      ok: false,
      reason: `there is no room for an 8 MiB test file within the audit's write limit (${gib(limits.maxWriteBytes)}) and the free space (${gib(space.freeBytes)})`,
    };
  const plan: FioPlan = {
    directory: dataDir,
    fileName,
    fileBytes,
    randWriteBytes,
    secondsPerJob: limits.diskSecondsPerJob,
    direct: true,
  };
  return {
    ok: true,
    plan,
    plannedBytes: diskWriteBytes({ diskFileBytes: fileBytes, diskRandWriteBytes: randWriteBytes }),
  };
}

/** Remove test files an interrupted audit left behind. */
async function removeLeftovers(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names)
    if (name.startsWith(FIO_FILE_PREFIX) && name.endsWith('.fio')) await rm(join(dir, name), { force: true });
}

type Bench =
  | { ok: true; figures: DiskFigures; note: string }
  | { ok: false; outcome: Verdict }
  | { ok: false; reason: string; errno?: number };

const EIO = 5;
const EINVAL = 22;
const ENOSPC = 28;

async function runFio(ctx: AuditContext, plan: FioPlan): Promise<Bench> {
  const wanted = 4 * plan.secondsPerJob * 1000 + 60_000;
  const limit = timeoutMs(ctx, wanted);
  const result = await execBenchmark(ctx, 'fio', fioArgs(plan), { timeoutMs: limit });
  if (result.missing) return { ok: false, outcome: missingTool('fio', 'Disk speed') };
  if (result.timedOut)
    return {
      ok: false,
      reason: `fio did not finish within ${Math.round(limit / 1000)} s (the disk may be failing)`,
    };
  let parsed;
  try {
    parsed = parseFioJson(result.stdout);
  } catch (error) {
    const why = result.ok ? (error instanceof Error ? error.message : String(error)) : result.problem;
    return { ok: false, reason: `fio could not measure the disk: ${why}` };
  }
  const figures = diskFigures(parsed);
  if (!figures.ok) {
    const said = result.stderr.trim().split('\n')[0];
    return {
      ok: false,
      reason: `fio's ${figures.job} job failed (error ${figures.error})${said ? `: ${said}` : ''}`,
      errno: figures.error,
    };
  }
  const mode = plan.direct ? 'direct I/O' : 'buffered I/O (this file system refuses direct I/O)';
  const note = `Measured with ${parsed.version} on a ${gib(plan.fileBytes)} test file in ${plan.directory} (${mode}), ${plan.secondsPerJob} s per job; the file was removed.`;
  return { ok: true, figures: figures.figures, note };
}

export async function runDiskCheck(ctx: AuditContext): Promise<CheckOutcome> {
  let space: FsSpace;
  try {
    space = await ctx.statfs(ctx.dataDir);
  } catch (error) {
    return verdict(
      'fail',
      'The data disk could not be read',
      `Asking the file system of ${ctx.dataDir} for its size failed: ${error instanceof Error ? error.message : String(error)}.`,
      'Restart the machine. If this message comes back, the disk may be failing: contact support.',
    );
  }
  const t = ctx.policy.thresholds;
  if (ctx.busyLeases.length)
    return assessDisk(undefined, space, t, `Disk benchmark skipped: ${busyReason(ctx.busyLeases)}.`);
  if (!ctx.heavy) return assessDisk(undefined, space, t, 'Disk benchmark skipped: this was a light audit.');
  const fileName = `${FIO_FILE_PREFIX}${randomBytes(4).toString('hex')}.fio`;
  const planned = planDiskBenchmark(ctx.dataDir, ctx.policy.limits, space, fileName);
  if (!planned.ok) return assessDisk(undefined, space, t, `Disk benchmark skipped: ${planned.reason}.`);
  await removeLeftovers(ctx.dataDir);
  try {
    let bench = await runFio(ctx, planned.plan);
    if (!bench.ok && 'errno' in bench && bench.errno === EINVAL) {
      // EINVAL on open: no O_DIRECT on this file system; measure buffered, flushed at the end.
      bench = await runFio(ctx, { ...planned.plan, direct: false });
    }
    if (bench.ok) return assessDisk(bench.figures, space, t, bench.note);
    if ('outcome' in bench) return bench.outcome;
    const base = assessDisk(undefined, space, t, '');
    if (base.status === 'fail') return base;
    if ('errno' in bench && (bench.errno === EIO || bench.errno === ENOSPC))
      return verdict(
        'fail',
        bench.errno === EIO
          ? 'The data disk reported an input/output error'
          : 'The data disk ran out of space',
        `${bench.reason}. ${bench.errno === EIO ? 'The disk could not read or write a test file: it may be failing or badly connected.' : 'A small test file could not be written.'}`,
        bench.errno === EIO
          ? 'Switch the machine off, check the disk cable (or reseat the NVMe drive), then restart. If the error comes back, replace the disk.'
          : 'Restart the machine (temporary files are cleared); if the disk fills up again, contact support.',
        base.metrics,
      );
    return verdict(
      'warn',
      'Disk speed not measured',
      `${bench.reason}. ${gib(space.freeBytes)} of ${gib(space.sizeBytes)} is free.`,
      'Restart the machine; if this keeps happening, the disk may be failing: contact support with this message.',
      base.metrics,
    );
  } finally {
    await rm(join(ctx.dataDir, fileName), { force: true });
  }
}
