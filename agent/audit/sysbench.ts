/**
 * sysbench 1.0 (Debian's `sysbench`): the argument arrays the audit runs and pure parsers of the
 * report it prints. CPU: a fixed amount of work per event (primes up to 20000), as many events as
 * fit in the run time on every thread; memory: 1 MiB blocks read or written for the run time.
 */

export const CPU_MAX_PRIME = 20_000;

export function sysbenchCpuArgs(threads: number, seconds: number): string[] {
  return [
    'cpu',
    `--threads=${threads}`,
    `--time=${seconds}`,
    '--events=0',
    `--cpu-max-prime=${CPU_MAX_PRIME}`,
    'run',
  ];
}

export function sysbenchMemoryArgs(threads: number, seconds: number, oper: 'read' | 'write'): string[] {
  return [
    'memory',
    `--threads=${threads}`,
    `--time=${seconds}`,
    '--memory-block-size=1M',
    '--memory-total-size=1024G',
    `--memory-oper=${oper}`,
    'run',
  ];
}

export interface SysbenchCpuResult {
  threads: number;
  eventsPerSec: number;
  totalEvents: number;
  latencyP95Ms: number | undefined;
}

export interface SysbenchMemoryResult {
  threads: number;
  mibPerSec: number;
  totalMiB: number;
}

export class SysbenchParseError extends Error {
  override readonly name = 'SysbenchParseError';
}

function numberAfter(text: string, pattern: RegExp): number | undefined {
  const match = pattern.exec(text);
  if (!match?.[1]) return undefined;
  const value = Number(match[1]);
  return Number.isFinite(value) ? value : undefined;
}

const threadsOf = (text: string) => numberAfter(text, /^Number of threads:\s*(\d+)\s*$/m);

export function parseSysbenchCpu(text: string): SysbenchCpuResult {
  const eventsPerSec = numberAfter(text, /^\s*events per second:\s*([\d.]+)\s*$/m);
  const totalEvents = numberAfter(text, /^\s*total number of events:\s*(\d+)\s*$/m);
  const threads = threadsOf(text);
  if (eventsPerSec === undefined || totalEvents === undefined || threads === undefined)
    throw new SysbenchParseError('sysbench cpu did not print "events per second" and "Number of threads"');
  return {
    threads,
    eventsPerSec,
    totalEvents,
    latencyP95Ms: numberAfter(text, /^\s*95th percentile:\s*([\d.]+)\s*$/m),
  };
}

export function parseSysbenchMemory(text: string): SysbenchMemoryResult {
  const match = /^([\d.]+) MiB transferred \(([\d.]+) MiB\/sec\)\s*$/m.exec(text);
  const threads = threadsOf(text);
  const totalMiB = Number(match?.[1]);
  const mibPerSec = Number(match?.[2]);
  if (!match || threads === undefined || !Number.isFinite(totalMiB) || !Number.isFinite(mibPerSec))
    throw new SysbenchParseError('sysbench memory did not print "MiB transferred (… MiB/sec)"');
  return { threads, mibPerSec, totalMiB };
}
