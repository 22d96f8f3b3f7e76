/**
 * Small pieces of the ISO test's harness: timed phases (printed as `[iso] name: N s` and listed at
 * the end), a child process with inherited output and a time limit, and polling until a probe says yes.
 */
import { spawn } from 'node:child_process';
import { ROOT } from './enroll-server-process.js';

export const MIN = 60_000;

export const durations: [string, number][] = [];

export async function phase<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    const s = (performance.now() - t0) / 1000;
    durations.push([name, s]);
    process.stdout.write(`[iso] ${name}: ${s.toFixed(1)} s\n`);
  }
}

export function runInherit(program: string, args: string[], timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${program} ${args.join(' ')} failed (${code ?? signal})`));
    });
  });
}

export async function until<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}
