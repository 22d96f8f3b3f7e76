/**
 * The server's own liveness record: one row per run, refreshed every 30 s. A gap between a run's
 * last sign of life and the next run's start is a platform outage that payouts credit.
 */
import type { PayoutRepository } from './payout-repository.js';

export const LIVENESS_INTERVAL_MS = 30_000;

/** Starts the record; the returned function stops it and writes a last sign of life. */
export async function startLivenessRecord(
  repo: Pick<PayoutRepository, 'startRun' | 'alive'>,
  now: () => number,
  onError: (error: unknown) => void,
): Promise<() => Promise<void>> {
  const runId = await repo.startRun(now());
  const beat = () => repo.alive(runId, now()).catch(onError);
  const timer = setInterval(() => void beat(), LIVENESS_INTERVAL_MS);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await beat();
  };
}

/**
 * Platform outages detected from the runs of every server process: the gaps in their union, so
 * that one replica restarting while another keeps running is no outage. With one process the runs
 * follow each other and the gaps are those between one run's last sign of life and the next start.
 */
export function gapsBetweenRuns(
  runs: readonly { startedAt: number; lastAliveAt: number }[],
  from: number,
  to: number,
  minGapMs: number,
): { start: number; end: number }[] {
  const sorted = [...runs].sort((a, b) => a.startedAt - b.startedAt);
  const gaps: { start: number; end: number }[] = [];
  let coveredUntil: number | undefined;
  for (const run of sorted) {
    if (coveredUntil !== undefined && run.startedAt > coveredUntil) {
      const gap = { start: coveredUntil, end: run.startedAt };
      if (gap.end - gap.start >= minGapMs && gap.end > from && gap.start < to) gaps.push(gap);
    }
    coveredUntil = Math.max(coveredUntil ?? run.lastAliveAt, run.lastAliveAt);
  }
  return gaps;
}
