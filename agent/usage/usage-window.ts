/**
 * Usage aggregation (pure): samples of the running GPU workloads, each covering the time since the
 * previous sample, summed per lease into one report window. `seconds` is the time a lease was seen
 * running (whole seconds, at most the window's length); `gpus` the most it held at once.
 */
import type { GpuWorkload } from './gpu-pods.js';

export interface UsageWindow {
  fromMs: number;
  /** Time of the last sample (the next sample covers from here). */
  lastSampleMs: number;
  samples: number;
  leases: Record<string, { gpus: number; ms: number }>;
}

export function openWindow(atMs: number): UsageWindow {
  return { fromMs: atMs, lastSampleMs: atMs, samples: 0, leases: {} };
}

/** Add a sample taken at `atMs`: each workload ran since the previous sample (at most `maxGapMs`). */
export function addSample(
  window: UsageWindow,
  atMs: number,
  workloads: readonly GpuWorkload[],
  maxGapMs: number,
): UsageWindow {
  const span = Math.max(0, Math.min(atMs - window.lastSampleMs, maxGapMs));
  const leases = { ...window.leases };
  for (const w of workloads) {
    const before = leases[w.leaseId] ?? { gpus: 0, ms: 0 };
    leases[w.leaseId] = { gpus: Math.max(before.gpus, w.gpus), ms: before.ms + span };
  }
  return { ...window, lastSampleMs: atMs, samples: window.samples + 1, leases };
}

export interface WindowReport {
  from: string;
  to: string;
  workloads: { leaseId: string; gpus: number; seconds: number }[];
}

/** Close the window at `toMs`: its report (leases sorted by id, seconds rounded, capped to the window). */
export function closeWindow(window: UsageWindow, toMs: number): WindowReport {
  const limit = Math.max(0, Math.floor((toMs - window.fromMs) / 1000));
  const workloads = Object.entries(window.leases)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([leaseId, { gpus, ms }]) => ({
      leaseId,
      gpus,
      seconds: Math.min(limit, Math.min(86_400, Math.round(ms / 1000))),
    }))
    .slice(0, 256);
  return { from: new Date(window.fromMs).toISOString(), to: new Date(toMs).toISOString(), workloads };
}
