/**
 * `shm`: the size of /dev/shm (shared memory, a RAM file system many AI programs use to move data
 * between processes) and how fast a bounded file can be written to it; the file is removed at once.
 */
import { randomBytes } from 'node:crypto';
import { open, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { AuditThresholds } from '../../protocol/audit-policy.js';
import { busyReason, remainingMs, type AuditContext, type FsSpace } from './context.js';
import { combine, figure, gib, verdict, type CheckOutcome, type Problem, type Verdict } from './finding.js';

const MiB = 1024 * 1024;

export function assessShm(
  dir: string,
  space: FsSpace,
  writeMiBps: number | undefined,
  t: AuditThresholds,
  note: string,
): Verdict {
  const metrics = {
    shmSizeBytes: space.sizeBytes,
    shmFreeBytes: space.freeBytes,
    ...(writeMiBps === undefined ? {} : { shmWriteMiBps: writeMiBps }),
  };
  const problems: Problem[] = [];
  if (space.sizeBytes < t.shmMinBytes)
    problems.push({
      status: 'fail',
      summary: `Shared memory (${dir}) is too small: ${gib(space.sizeBytes)}`,
      detail: `Workloads such as AI training and inference exchange data through ${dir}; it must hold at least ${gib(t.shmMinBytes)}, and it holds ${gib(space.sizeBytes)}. It is sized from the machine's memory.`,
      fix: 'Restart the machine so that the system sets up shared memory again. If it stays small, add memory (RAM) or contact support.',
    });
  if (writeMiBps !== undefined && writeMiBps < t.shmMinWriteMiBps)
    problems.push({
      status: 'fail',
      summary: `Shared memory is very slow: ${figure(writeMiBps)} MiB/s`,
      detail: `Writing to ${dir} reached ${figure(writeMiBps)} MiB/s; memory should manage at least ${figure(t.shmMinWriteMiBps)} MiB/s. The machine is probably short of memory and swapping to disk.`,
      fix: 'Restart the machine. If it stays slow, add memory (RAM) or contact support.',
    });
  const speed = writeMiBps === undefined ? '' : `, writes at ${figure(writeMiBps)} MiB/s`;
  return combine(problems, `${dir}: ${gib(space.sizeBytes)}${speed}`, note, metrics);
}

const SHM_PREFIX = 'homenode-audit-';

/** Remove test files an interrupted audit left in shared memory (they hold memory until removed). */
async function removeLeftovers(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) if (name.startsWith(SHM_PREFIX)) await rm(join(dir, name), { force: true });
}

/** Write `bytes` in 1 MiB pieces to a new file in `dir`, then remove it; MiB/s. */
async function measureWrite(ctx: AuditContext, bytes: number): Promise<number> {
  await removeLeftovers(ctx.shmDir);
  const path = join(ctx.shmDir, `${SHM_PREFIX}${randomBytes(4).toString('hex')}`);
  const chunk = randomBytes(MiB);
  const handle = await open(path, 'wx', 0o600);
  const started = ctx.monotonic();
  let written = 0;
  try {
    while (written < bytes) {
      const { bytesWritten } = await handle.write(chunk, 0, Math.min(MiB, bytes - written));
      written += bytesWritten;
    }
  } finally {
    await handle.close();
    await rm(path, { force: true });
  }
  const seconds = Math.max((ctx.monotonic() - started) / 1000, 1e-6);
  return written / MiB / seconds;
}

export async function runShmCheck(ctx: AuditContext): Promise<CheckOutcome> {
  const dir = ctx.shmDir;
  let space: FsSpace;
  try {
    space = await ctx.statfs(dir);
  } catch (error) {
    return verdict(
      'fail',
      `There is no shared memory (${dir})`,
      `${dir} could not be read: ${error instanceof Error ? error.message : String(error)}. Many workloads need it.`,
      'Restart the machine. If this message comes back, contact support: the system is not set up as Home Node expects.',
    );
  }
  const t = ctx.policy.thresholds;
  if (ctx.busyLeases.length)
    return assessShm(dir, space, undefined, t, `Write test skipped: ${busyReason(ctx.busyLeases)}.`);
  if (!ctx.heavy) return assessShm(dir, space, undefined, t, 'Write test skipped: this was a light audit.');
  const bytes = Math.floor(Math.min(ctx.policy.limits.shmWriteBytes, space.freeBytes / 2) / MiB) * MiB;
  if (bytes < MiB || remainingMs(ctx) < 5_000)
    return assessShm(
      dir,
      space,
      undefined,
      t,
      'Write test skipped: not enough free shared memory or time left.',
    );
  try {
    const mibps = await measureWrite(ctx, bytes);
    return assessShm(dir, space, mibps, t, `Wrote ${gib(bytes)} to ${dir} and removed it.`);
  } catch (error) {
    const base = assessShm(dir, space, undefined, t, '');
    return base.status === 'fail'
      ? base
      : verdict(
          'fail',
          `Shared memory (${dir}) cannot be written`,
          `Writing a ${gib(bytes)} test file failed: ${error instanceof Error ? error.message : String(error)}.`,
          'Restart the machine. If this message comes back, contact support.',
          base.metrics,
        );
  }
}
