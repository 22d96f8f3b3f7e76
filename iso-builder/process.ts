/**
 * How the build runs programs and reports its steps: argument arrays with a timeout, their output
 * into the build log (not the terminal), a failure as an error carrying the last lines; each step
 * printed with its duration.
 */
import { createWriteStream } from 'node:fs';
import { execa } from 'execa';

let logStream: NodeJS.WritableStream | undefined;

export function openBuildLog(path: string): void {
  logStream = createWriteStream(path);
}

export function logLine(text: string): void {
  logStream?.write(`${text}\n`);
}

export async function run(
  program: string,
  args: readonly string[],
  env: Record<string, string> = {},
  timeoutMs = 30 * 60_000,
): Promise<string> {
  const child = execa(program, [...args], {
    env,
    stdin: 'ignore',
    all: true,
    reject: false,
    timeout: timeoutMs,
  });
  logStream?.write(`\n$ ${program} ${args.join(' ')}\n`);
  child.all?.on('data', (chunk: Buffer) => logStream?.write(chunk));
  const result = await child;
  if (result.failed) {
    const tail = String(result.all ?? '')
      .trim()
      .split('\n')
      .slice(-15)
      .join('\n');
    throw new Error(`${program} failed (${result.shortMessage}):\n${tail}`);
  }
  return String(result.stdout ?? '');
}

export async function step<T>(title: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  process.stdout.write(`==> ${title}\n`);
  const value = await fn();
  process.stdout.write(`    done in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  return value;
}

export function note(text: string): void {
  process.stdout.write(`    ${text}\n`);
}
