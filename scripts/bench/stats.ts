/** Latency percentiles and a bounded-concurrency runner for benchmarks. */

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? 0;
}

export interface RunResult {
  seconds: number;
  latenciesMs: number[];
  failures: number;
}

/** Run `count` tasks with at most `concurrency` in flight; time each one. */
export async function runConcurrently(
  count: number,
  concurrency: number,
  task: (i: number) => Promise<boolean>,
): Promise<RunResult> {
  const latenciesMs: number[] = [];
  let failures = 0;
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < count) {
      const i = next;
      next += 1;
      const t0 = performance.now();
      const ok = await task(i);
      latenciesMs.push(performance.now() - t0);
      if (!ok) failures += 1;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return {
    seconds: (performance.now() - started) / 1000,
    latenciesMs: latenciesMs.sort((a, b) => a - b),
    failures,
  };
}

export const round = (n: number, digits = 1): number => Math.round(n * 10 ** digits) / 10 ** digits;
