/**
 * A node's answer to `join`: on success its WireGuard key is stored and an approved node becomes
 * active; a failure is flagged for ops (`artifact-refused` when the node refused the software the
 * join named, `join-failed` otherwise). A WireGuard key another node already holds is refused
 * (`wireguard-key-conflict`): the hub could not tell the two apart, and one node's route would be
 * lost. Each outcome goes to the activity log, in one transaction with its change.
 */
import type { JoinFailure } from '../../protocol/control.js';
import { isJoinField } from '../../protocol/join-fields.js';
import type { ActivityLog } from '../core/activity-log.js';
import type { Transactional } from '../core/transactions.js';
import type { NetworkRepository } from '../network/network-repository.js';
import type { FlagRepository } from '../nodes/flag-repository.js';
import type { NodeRecord, NodeRepository } from '../nodes/node-repository.js';

export interface JoinResult {
  ok: boolean;
  wireguardPublicKey?: string;
  error?: string;
  failure?: JoinFailure;
}

export type JoinOutcome =
  | { kind: 'joined'; node: NodeRecord | undefined }
  | { kind: 'failed' }
  | { kind: 'key-taken'; message: string };

type JoinRepos = Transactional<{
  nodes: NodeRepository;
  flags: FlagRepository;
  network: NetworkRepository;
  activity: ActivityLog;
}>;

async function recordFailure(repos: JoinRepos, nodeId: string, result: JoinResult, now: number) {
  const error = result.error ?? 'no WireGuard key reported';
  const artifact = result.failure === 'artifact';
  await repos.transaction(async (tx) => {
    await tx.flags.add(
      nodeId,
      artifact ? 'artifact-refused' : 'join-failed',
      artifact
        ? `The node refused the software the join named, and did not install it: ${error}`
        : `Joining the cluster failed: ${error}`,
      result.failure ? { failure: result.failure } : {},
      now,
    );
    await tx.activity.record(
      now,
      { type: 'node', id: nodeId },
      artifact ? 'node.artifact_refused' : 'node.join_failed',
      { type: 'node', id: nodeId },
      { error, ...(result.failure ? { failure: result.failure } : {}) },
    );
  });
}

export async function recordJoinResult(
  repos: JoinRepos,
  nodeId: string,
  result: JoinResult,
  now: number,
): Promise<JoinOutcome> {
  const key = result.wireguardPublicKey;
  if (!result.ok || !key) {
    await recordFailure(repos, nodeId, result, now);
    return { kind: 'failed' };
  }
  if (!isJoinField('wireguardKey', key)) {
    await recordFailure(
      repos,
      nodeId,
      { ok: false, error: 'the WireGuard key it reported is not valid' },
      now,
    );
    return { kind: 'failed' };
  }
  return repos.transaction(async (tx): Promise<JoinOutcome> => {
    const holder = await tx.network.holderOf(key);
    if (holder !== undefined && holder !== nodeId) {
      const message =
        'This WireGuard public key already belongs to another node, so the hub could not route to ' +
        'both; it was not stored. The machine was probably copied from another one: delete the ' +
        "WireGuard key in the agent's WireGuard folder (homenode0.key) and restart the agent.";
      await tx.flags.add(nodeId, 'wireguard-key-conflict', message, { otherNodeId: holder }, now);
      await tx.activity.record(
        now,
        { type: 'node', id: nodeId },
        'node.wireguard_key_conflict',
        { type: 'node', id: nodeId },
        { otherNodeId: holder },
      );
      return { kind: 'key-taken', message };
    }
    await tx.network.setJoined(nodeId, key, now);
    if (await tx.nodes.transition(nodeId, 'approved', 'active', null, 'system', now)) {
      await tx.activity.record(now, { type: 'node', id: nodeId }, 'node.active', {
        type: 'node',
        id: nodeId,
      });
    }
    return { kind: 'joined', node: await tx.nodes.get(nodeId) };
  });
}
