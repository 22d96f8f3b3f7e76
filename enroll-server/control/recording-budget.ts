/**
 * How much a new shell session may record: at most `recordingMaxBytes` per session, and at most
 * `recordingMaxBytesPerNodeDay` for one node over 24 hours, counting its closed sessions (from the
 * database) and its live ones (here).
 */
import type { ShellLimits } from '../core/config.js';

export const DAY_MS = 24 * 3_600_000;
const MiB = 1024 * 1024;

export interface LiveRecording {
  readonly recordedBytes: number;
}

export class RecordingBudget {
  private readonly live = new Map<string, Set<LiveRecording>>();

  constructor(
    private readonly limits: Pick<ShellLimits, 'recordingMaxBytes' | 'recordingMaxBytesPerNodeDay'>,
  ) {}

  /** The cap of a new session of the node whose closed sessions recorded `recordedToday` bytes in 24 h. */
  allowance(nodeId: string, recordedToday: number): { maxBytes: number; limitText: string } {
    let live = 0;
    for (const r of this.live.get(nodeId) ?? []) live += r.recordedBytes;
    const left = Math.max(0, this.limits.recordingMaxBytesPerNodeDay - recordedToday - live);
    if (left < this.limits.recordingMaxBytes) {
      return {
        maxBytes: left,
        limitText: `this machine's limit of ${mib(this.limits.recordingMaxBytesPerNodeDay)} of recordings in 24 hours`,
      };
    }
    return {
      maxBytes: this.limits.recordingMaxBytes,
      limitText: `the limit of ${mib(this.limits.recordingMaxBytes)} per session`,
    };
  }

  /** Count a live recording towards its node's day until the returned function is called. */
  track(nodeId: string, recording: LiveRecording): () => void {
    let set = this.live.get(nodeId);
    if (!set) this.live.set(nodeId, (set = new Set()));
    set.add(recording);
    return () => {
      set.delete(recording);
      if (set.size === 0) this.live.delete(nodeId);
    };
  }
}

const mib = (bytes: number): string => `${Math.round((bytes / MiB) * 10) / 10} MiB`;
