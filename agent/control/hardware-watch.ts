/**
 * This machine's hardware as the daemon reports it: probed at start and every probe interval; a
 * digest for `hello`, and a signed snapshot (`HardwareSnapshotPayload`) sent at connect and when
 * the digest changes.
 */
import { createHash } from 'node:crypto';
import type { HardwareSnapshotPayload } from '../../protocol/control.js';
import type { HardwareFacts } from '../../protocol/hardware.js';
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
