/**
 * How the build runs programs and reports its steps: argument arrays with a timeout, their output
 * into the build log (not the terminal), a failure as an error carrying the last lines; each step
 * printed with its duration.
 */
import { createWriteStream, readFileSync } from 'node:fs';
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

/**
 * CPU seconds used so far by this process and the children it has waited for (Linux
 * /proc/self/stat utime, stime, cutime, cstime; 100 ticks a second): on a shared machine, a step's
 * CPU time says what its wall time would be on an idle one. Undefined where /proc is not there.
 */
export function cpuSeconds(): number | undefined {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 to 17 of the line; the slice starts at field 3.
    const ticks = fields.slice(11, 15).reduce((sum, f) => sum + Number(f), 0);
    return Number.isFinite(ticks) ? ticks / 100 : undefined;
  } catch {
    return undefined;
  }
}

export async function step<T>(title: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const cpu0 = cpuSeconds();
  process.stdout.write(`==> ${title}\n`);
  const value = await fn();
  const cpu1 = cpuSeconds();
  const cpu = cpu0 !== undefined && cpu1 !== undefined ? `, CPU ${(cpu1 - cpu0).toFixed(1)} s` : '';
  process.stdout.write(`    done in ${((performance.now() - t0) / 1000).toFixed(1)} s${cpu}\n`);
  return value;
}

export function note(text: string): void {
  process.stdout.write(`    ${text}\n`);
}
