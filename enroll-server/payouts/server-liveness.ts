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
