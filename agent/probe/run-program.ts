/**
 * Runs an external program (argument array, timeout) and reports what happened as a value: a
 * missing program or a failing one is a finding for the person at the console, never a crash.
 */
import { execa } from 'execa';

export type ProgramResult =
  | { outcome: 'ok'; stdout: string }
  | { outcome: 'missing'; program: string }
  | {
      outcome: 'failed';
      program: string;
      /** The first line the program printed on stderr (else stdout), or why it did not finish. */
      message: string;
      /** Its exit code, when it exited (not when it timed out or was killed). */
      exitCode?: number;
    };

export type RunProgram = (
  program: string,
  args: readonly string[],
  options?: { timeoutMs?: number },
) => Promise<ProgramResult>;

export const PROGRAM_TIMEOUT_MS = 10_000;

export function createProgramRunner(timeoutMs = PROGRAM_TIMEOUT_MS): RunProgram {
  return async (program, args, options = {}) => {
    const limit = options.timeoutMs ?? timeoutMs;
    const result = await execa(program, [...args], {
      timeout: limit,
      reject: false,
      stdin: 'ignore',
      encoding: 'utf8',
      maxBuffer: 4 * 1024 * 1024,
    });
    if (result.failed) {
      const code = result.code;
      if (code === 'ENOENT') return { outcome: 'missing', program };
      // Some programs (nvidia-smi) print their error on stdout.
      const firstLine = (text: string | undefined) => (text ?? '').trim().split('\n')[0] ?? '';
      const reason = result.timedOut
        ? `did not answer within ${Math.round(limit / 1000)} s`
        : firstLine(result.stderr) || firstLine(result.stdout) || String(result.shortMessage);
      const failed: ProgramResult = { outcome: 'failed', program, message: reason };
      if (!result.timedOut && typeof result.exitCode === 'number') failed.exitCode = result.exitCode;
      return failed;
    }
    return { outcome: 'ok', stdout: result.stdout };
  };
}
