/** Rollouts as stored (docs/updates.md): the rollout, and each node's state in it. */
export interface RolloutStage {
  percent: number;
  soakMinutes: number;
}

export type RolloutState = 'active' | 'paused' | 'aborted';
export type RolloutNodeState =
  'offered' | 'downloading' | 'installing' | 'restarting' | 'healthy' | 'rolled-back' | 'failed';

export interface RolloutRecord {
  id: string;
  artifact: string;
  version: string;
  stages: RolloutStage[];
  maxFailures: number;
  state: RolloutState;
  /** The stage being rolled out (an index into `stages`). */
  stage: number;
  stageStartedAt: number;
  /** Why it is paused or aborted. */
  reason: string | null;
  createdBy: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface RolloutNodeRecord {
  rolloutId: string;
  nodeId: string;
  version: string;
  state: RolloutNodeState;
  error: string | null;
  updatedAt: number;
}

export interface RolloutRepository {
  insert(rollout: RolloutRecord): Promise<void>;
  get(id: string): Promise<RolloutRecord | undefined>;
  /** Newest first. */
  list(limit: number): Promise<RolloutRecord[]>;
  /** Rollouts in the `active` state, oldest first. */
  active(): Promise<RolloutRecord[]>;
  update(
    id: string,
    patch: Pick<RolloutRecord, 'state' | 'stage' | 'stageStartedAt' | 'reason' | 'updatedAt'>,
  ): Promise<void>;
  nodes(rolloutId: string): Promise<RolloutNodeRecord[]>;
  node(rolloutId: string, nodeId: string): Promise<RolloutNodeRecord | undefined>;
  /** Inserts or replaces the node's state in the rollout. */
  setNode(record: RolloutNodeRecord): Promise<void>;
  /**
   * The nodes `version` rolled back on, in any rollout (it is never offered to them again): one
   * read per tick, not one per node.
   */
  rolledBackNodes(version: string): Promise<Set<string>>;
}
