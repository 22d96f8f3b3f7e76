/**
 * Runs a system program for the daemon (argument array, timeout, optional stdin) and reports what
 * happened as a value: exit code, both outputs, missing program or timeout. Never throws for the
 * program's own failures, so a caller can turn each into a message for ops.
 */
import { execa } from 'execa';

export interface ExecResult {
  ok: boolean;
  /** The program does not exist on this machine (ENOENT). */
  missing: boolean;
  timedOut: boolean;
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  /** One line saying what went wrong, for messages; empty when ok. */
  problem: string;
}

export interface ExecOptions {
  timeoutMs?: number;
  input?: string;
}

export type Exec = (program: string, args: readonly string[], options?: ExecOptions) => Promise<ExecResult>;

export const DEFAULT_EXEC_TIMEOUT_MS = 30_000;

export function createExec(defaultTimeoutMs = DEFAULT_EXEC_TIMEOUT_MS): Exec {
  return async (program, args, options = {}) => {
    const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
    const result = await execa(program, [...args], {
      timeout: timeoutMs,
      reject: false,
      encoding: 'utf8',
      maxBuffer: 8 * 1024 * 1024,
      ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
    });
    const stdout = String(result.stdout ?? '');
    const stderr = String(result.stderr ?? '');
    const missing = result.code === 'ENOENT';
    const timedOut = result.timedOut;
    let problem = '';
    if (missing) problem = `${program} is not installed on this machine`;
    else if (timedOut) problem = `${program} did not finish within ${Math.round(timeoutMs / 1000)} s`;
    else if (result.failed)
      problem = `${program} ${args.join(' ')} failed (exit ${String(result.exitCode)}): ${firstLine(stderr) || firstLine(stdout) || result.shortMessage}`;
    return { ok: !result.failed, missing, timedOut, exitCode: result.exitCode, stdout, stderr, problem };
  };
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0]?.trim() ?? '';
}
