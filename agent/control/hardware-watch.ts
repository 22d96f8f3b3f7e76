/**
 * This machine's hardware as the daemon reports it: probed at start and every probe interval; a
 * digest for `hello`, and a signed snapshot (`HardwareSnapshotPayload`) sent at connect and when
 * the digest changes.
 */
import { createHash } from 'node:crypto';
import type { AgentMessage, HardwareSnapshotPayload } from '../../protocol/control.js';
import type { HardwareFacts } from '../../protocol/hardware.js';
import { probeHardware } from '../probe/probe-hardware.js';
import type { RunProgram } from '../probe/run-program.js';
import type { Identity } from '../state/state-store.js';
import { signPayload } from '../usage/usage-meter.js';

/** Canonical JSON (sorted keys) so that the digest does not depend on property order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function hardwareDigest(hardware: HardwareFacts): string {
  return `sha256:${createHash('sha256').update(canonical(hardware)).digest('hex')}`;
}

export async function signedSnapshot(
  identity: Identity,
  nodeId: string,
  hardware: HardwareFacts,
  nowMs: number,
): Promise<string> {
  const payload: HardwareSnapshotPayload = { nodeId, takenAt: new Date(nowMs).toISOString(), hardware };
  return signPayload(identity, payload);
}

export interface HardwareWatchOptions {
  runProgram: RunProgram;
  identity: Identity;
  nodeId: string;
  now: () => number;
  intervalMs: number;
  note: (level: 'info' | 'warn', event: string, message: string) => void;
  /** Where the hardware comes from: this machine's probe unless given (`run --facts`: the file). */
  readHardware?: () => Promise<HardwareFacts>;
  /** The signed snapshot to send when the hardware changed between two probes. */
  onChange: (messages: AgentMessage[]) => void;
}

export interface HardwareWatch {
  /** The digest for `hello` ('' until a probe succeeded). */
  digest(): string;
  /** A signed snapshot frame of the last probe (none if no probe succeeded yet). */
  snapshot(): Promise<AgentMessage[]>;
  stop(): void;
}

/** Probes now and then every `intervalMs`; a changed digest is reported through `onChange`. */
export async function startHardwareWatch(options: HardwareWatchOptions): Promise<HardwareWatch> {
  let hardware: HardwareFacts | undefined;
  let digest = '';
  const probe = async (): Promise<boolean> => {
    try {
      const facts = options.readHardware
        ? await options.readHardware()
        : (await probeHardware(options.runProgram)).hardware;
      const next = hardwareDigest(facts);
      const changed = hardware !== undefined && next !== digest;
      hardware = facts;
      digest = next;
      return changed;
    } catch (error) {
      options.note('warn', 'hardware_probe_failed', `Could not probe the hardware: ${String(error)}`);
      return false;
    }
  };
  const snapshot = async (): Promise<AgentMessage[]> =>
    hardware
      ? [
          {
            type: 'hardware',
            snapshot: await signedSnapshot(options.identity, options.nodeId, hardware, options.now()),
          },
        ]
      : [];
  await probe();
  // One probe at a time: a probe slower than the interval (a busy machine) skips ticks instead of
  // piling up processes.
  let probing = false;
  const timer = setInterval(() => {
    if (probing) return;
    probing = true;
    void probe()
      .then(async (changed) => {
        if (!changed) return;
        options.note('info', 'hardware_changed', 'The hardware changed; telling the server.');
        options.onChange(await snapshot());
      })
      .finally(() => (probing = false));
  }, options.intervalMs);
  return { digest: () => digest, snapshot, stop: () => clearInterval(timer) };
}
