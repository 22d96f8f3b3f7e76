/** Pure rules of a rollout (docs/updates.md): which nodes a stage takes, what counts as failed. */
import { createHash } from 'node:crypto';
import type { RolloutNodeState, RolloutStage } from './rollout-repository.js';

export const FINAL_STATES: readonly RolloutNodeState[] = ['healthy', 'rolled-back', 'failed'];
export const FAILED_STATES: readonly RolloutNodeState[] = ['rolled-back', 'failed'];
export const MAX_STAGES = 10;

/**
 * A node's place in every rollout, 0..9999, from the hash of its id alone: the same nodes are the
 * canaries of every rollout, and a stage of p % takes the nodes below p × 100.
 */
export function nodeBucket(nodeId: string): number {
  return createHash('sha256').update(nodeId).digest().readUInt32BE(0) % 10_000;
}

export function inStage(nodeId: string, stage: RolloutStage): boolean {
  return nodeBucket(nodeId) < Math.round(stage.percent * 100);
}

/** Stages must grow: each takes more of the fleet than the one before. */
export function stagesProblem(stages: RolloutStage[]): string | undefined {
  if (stages.length === 0) return 'a rollout needs at least one stage';
  if (stages.length > MAX_STAGES) return `a rollout has at most ${MAX_STAGES} stages`;
  for (let i = 1; i < stages.length; i += 1) {
    const before = stages[i - 1];
    const stage = stages[i];
    if (before && stage && stage.percent <= before.percent)
      return `stage ${i + 1} (${stage.percent} %) must take more nodes than stage ${i} (${before.percent} %)`;
  }
  return undefined;
}
