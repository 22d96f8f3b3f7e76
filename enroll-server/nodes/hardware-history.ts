/**
 * The hardware history (what payouts read to know a node's GPU class at each moment) grows by at
 * most one row per approval, whatever a node sends:
 * - a snapshot equal to the newest row writes nothing;
 * - one with the same GPUs (class and count) amends the newest row in place: payouts read only the
 *   GPUs, so nothing paid changes;
 * - one with other GPUs while the node is not paid (pending, rejected, revoked) and the newest row
 *   was written after its last approval amends that row too: no paid minute used it;
 * - otherwise (other GPUs, and the newest row was in force while the node was paid) a row is added.
 */
import type { NodeStatus } from '../../protocol/api.js';
import type { HardwareFacts } from '../../protocol/hardware.js';
import { gpuSignature } from './gpu-signature.js';

export type HistoryWrite = 'none' | 'amend-latest' | 'append';

const PAID: readonly NodeStatus[] = ['approved', 'active'];

export function historyWrite(
  latest: { at: number; hardware: HardwareFacts } | undefined,
  node: { status: NodeStatus; approvedAt: number | null },
  next: HardwareFacts,
): HistoryWrite {
  if (!latest) return 'append';
  if (JSON.stringify(latest.hardware) === JSON.stringify(next)) return 'none';
  if (gpuSignature(latest.hardware) === gpuSignature(next)) return 'amend-latest';
  const unpaidSinceLatest =
    !PAID.includes(node.status) && (node.approvedAt === null || latest.at > node.approvedAt);
  return unpaidSinceLatest ? 'amend-latest' : 'append';
}
