/**
 * The hardware history (what payouts read to know a node's GPU class at each moment, and audits
 * read for what a node was approved with) grows by at most two rows per approval, whatever a node
 * sends:
 * - a snapshot equal to the newest row writes nothing;
 * - the row in force when the node was last approved is never changed while the node is paid: the
 *   first different snapshot after the approval adds one row (audits compare later snapshots with
 *   the approved one, e.g. fewer cores than approved is a shortfall);
 * - otherwise one with the same GPUs (class and count) amends the newest row in place: payouts read
 *   only the GPUs, so nothing paid changes;
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
  const paid = PAID.includes(node.status);
  const approvedWith = node.approvedAt !== null && latest.at <= node.approvedAt;
  if (gpuSignature(latest.hardware) === gpuSignature(next))
    return paid && approvedWith ? 'append' : 'amend-latest';
  const unpaidSinceLatest = !paid && (node.approvedAt === null || latest.at > node.approvedAt);
  return unpaidSinceLatest ? 'amend-latest' : 'append';
}
