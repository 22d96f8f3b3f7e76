/**
 * Running one audit program through the agent's exec helper (argument array, a timeout that never
 * passes the suite's deadline) and turning what went wrong into a finding instead of a crash.
 */
import type { ExecOptions, ExecResult } from '../system/exec.js';
import type { AuditContext } from './context.js';
import { timeoutMs } from './context.js';
import { missingTool, verdict, type Verdict } from './finding.js';

/** Benchmarks yield to everything else on the machine (the agent's own heartbeats, k3s). */
export const BENCHMARK_NICENESS = 10;

/**
 * Run a benchmark through `nice`, so that it takes the CPU only when nothing else wants it. A
 * program `nice` cannot find (exit 127) counts as missing; without `nice` it runs as it is.
 */
export async function execBenchmark(
  ctx: Pick<AuditContext, 'exec'>,
  program: string,
  args: readonly string[],
  options: ExecOptions,
): Promise<ExecResult> {
  const result = await ctx.exec('nice', ['-n', String(BENCHMARK_NICENESS), program, ...args], options);
  if (result.missing) return ctx.exec(program, args, options);
  if (result.exitCode === 127 && /No such file or directory/.test(result.stderr))
    return { ...result, missing: true, problem: `${program} is not installed on this machine` };
  return result;
}

export type ToolRun = { ok: true; stdout: string; stderr: string } | { ok: false; outcome: Verdict };

/**
 * Run `program` for at most `wantedMs`. Missing: a warning naming the Debian package; cut by the
 * suite's deadline: a warning; its own timeout or a failure: a warning with the program's words
 * (a benchmark that cannot run proves nothing either way).
 */
export async function runTool(
  ctx: AuditContext,
  program: string,
  args: readonly string[],
  wantedMs: number,
  what: string,
): Promise<ToolRun> {
  const limit = timeoutMs(ctx, wantedMs);
  const cutByDeadline = limit < wantedMs;
  const result = await execBenchmark(ctx, program, args, { timeoutMs: limit });
  if (result.ok) return { ok: true, stdout: result.stdout, stderr: result.stderr };
  if (result.missing) return { ok: false, outcome: missingTool(program, what) };
  if (result.timedOut) {
    const seconds = Math.round(limit / 1000);
    return {
      ok: false,
      outcome: cutByDeadline
        ? verdict(
            'warn',
            `${what} not measured: the audit ran out of time`,
            `${program} was stopped after ${seconds} s because the whole audit may take at most ${Math.round(ctx.policy.limits.maxSeconds / 60)} min.`,
            'Nothing to do now; the next audit measures it again.',
          )
        : verdict(
            'warn',
            `${what} not measured: ${program} did not finish in ${seconds} s`,
            `${program} should finish well within ${seconds} s; this machine may be overloaded or stuck.`,
            'Restart the machine; if this keeps happening, contact support with this message.',
          ),
    };
  }
  return {
    ok: false,
    outcome: verdict(
      'warn',
      `${what} not measured: ${program} failed`,
      result.problem,
      'Restart the machine; if this keeps happening, contact support with this message.',
    ),
  };
}
