/**
 * The server's own liveness record: one row per run, refreshed every 30 s. A gap between a run's
 * last sign of life and the next run's start is a platform outage that payouts credit.
 */
import type { PayoutRepository } from './sqlite/payout-repository.js';

export const LIVENESS_INTERVAL_MS = 30_000;

export function startLivenessRecord(
  repo: PayoutRepository,
  now: () => number,
  onError: (error: unknown) => void,
): () => void {
  const runId = repo.startRun(now());
  const beat = () => {
    try {
      repo.alive(runId, now());
    } catch (error) {
      onError(error);
    }
  };
  const timer = setInterval(beat, LIVENESS_INTERVAL_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    beat();
  };
}
