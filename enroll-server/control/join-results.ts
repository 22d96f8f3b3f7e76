/**
 * A node's answer to `join`: on success its WireGuard key is stored and an approved node becomes
 * active; a failure is flagged for ops. Both go to the activity log, in one transaction.
 */
import type { ActivityLog } from '../core/activity-log.js';
import type { Transactional } from '../core/transactions.js';
import type { FlagRepository } from '../nodes/flag-repository.js';
import type { NodeRecord, NodeRepository } from '../nodes/node-repository.js';
import type { NetworkRepository } from './network-repository.js';

export interface JoinResult {
  ok: boolean;
  wireguardPublicKey?: string;
  error?: string;
}

/** The node after a successful join (to tell it its status), or undefined after a failure. */
export async function recordJoinResult(
  repos: Transactional<{
    nodes: NodeRepository;
    flags: FlagRepository;
    network: NetworkRepository;
    activity: ActivityLog;
  }>,
  nodeId: string,
  result: JoinResult,
  now: number,
): Promise<NodeRecord | undefined> {
  const { ok, wireguardPublicKey, error } = result;
  if (!ok || !wireguardPublicKey) {
    await repos.transaction(async (tx) => {
      await tx.flags.add(
        nodeId,
        'join-failed',
        `Joining the cluster failed: ${error ?? 'no WireGuard key reported'}`,
        {},
        now,
      );
      await tx.activity.record(
        now,
        { type: 'node', id: nodeId },
        'node.join_failed',
        { type: 'node', id: nodeId },
        { error },
      );
    });
    return undefined;
  }
  return repos.transaction(async (tx) => {
    await tx.network.setJoined(nodeId, wireguardPublicKey, now);
    if (await tx.nodes.transition(nodeId, 'approved', 'active', null, 'system', now)) {
      await tx.activity.record(now, { type: 'node', id: nodeId }, 'node.active', {
        type: 'node',
        id: nodeId,
      });
    }
    return tx.nodes.get(nodeId);
  });
}
