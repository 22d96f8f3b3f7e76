import type { Db } from '../../core/sqlite/database.js';
import type { Run } from '../../core/sqlite/engine.js';
import type {
  RolloutNodeRecord,
  RolloutNodeState,
  RolloutRecord,
  RolloutRepository,
  RolloutStage,
  RolloutState,
} from '../rollout-repository.js';

interface Row {
  id: string;
  artifact: string;
  version: string;
  stages: string;
  max_failures: number;
  state: string;
  stage: number;
  stage_started_at: number;
  reason: string | null;
  created_by: string | null;
  created_at: number;
  updated_at: number;
}
interface NodeRow {
  rollout_id: string;
  node_id: string;
  version: string;
  state: string;
  error: string | null;
  updated_at: number;
}

const toRecord = (r: Row): RolloutRecord => ({
  id: r.id,
  artifact: r.artifact,
  version: r.version,
  stages: JSON.parse(r.stages) as RolloutStage[],
  maxFailures: r.max_failures,
  state: r.state as RolloutState,
  stage: r.stage,
  stageStartedAt: r.stage_started_at,
  reason: r.reason,
  createdBy: r.created_by,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});
const toNode = (r: NodeRow): RolloutNodeRecord => ({
  rolloutId: r.rollout_id,
  nodeId: r.node_id,
  version: r.version,
  state: r.state as RolloutNodeState,
  error: r.error,
  updatedAt: r.updated_at,
});

export function sqliteRolloutRepository(db: Db): (run: Run) => RolloutRepository {
  const insert = db.prepare(
    `INSERT INTO rollouts (id, artifact, version, stages, max_failures, state, stage, stage_started_at,
       reason, created_by, created_at, updated_at)
     VALUES (@id, @artifact, @version, @stages, @max_failures, @state, @stage, @stage_started_at,
       @reason, @created_by, @created_at, @updated_at)`,
  );
  const get = db.prepare<[string], Row>('SELECT * FROM rollouts WHERE id = ?');
  const list = db.prepare<[number], Row>('SELECT * FROM rollouts ORDER BY created_at DESC, id DESC LIMIT ?');
  const active = db.prepare<[], Row>("SELECT * FROM rollouts WHERE state = 'active' ORDER BY created_at, id");
  const update = db.prepare(
    `UPDATE rollouts SET state = @state, stage = @stage, stage_started_at = @stage_started_at,
       reason = @reason, updated_at = @updated_at WHERE id = @id`,
  );
  const nodes = db.prepare<[string], NodeRow>(
    'SELECT * FROM rollout_nodes WHERE rollout_id = ? ORDER BY node_id',
  );
  const node = db.prepare<[string, string], NodeRow>(
    'SELECT * FROM rollout_nodes WHERE rollout_id = ? AND node_id = ?',
  );
  const setNode = db.prepare(
    `INSERT INTO rollout_nodes (rollout_id, node_id, version, state, error, updated_at)
     VALUES (@rollout_id, @node_id, @version, @state, @error, @updated_at)
     ON CONFLICT (rollout_id, node_id) DO UPDATE SET version = excluded.version, state = excluded.state,
       error = excluded.error, updated_at = excluded.updated_at`,
  );
  const rolledBack = db.prepare<[string], { node_id: string }>(
    "SELECT DISTINCT node_id FROM rollout_nodes WHERE version = ? AND state = 'rolled-back'",
  );
  return (run) => ({
    insert: (r) =>
      run(() => {
        insert.run({
          id: r.id,
          artifact: r.artifact,
          version: r.version,
          stages: JSON.stringify(r.stages),
          max_failures: r.maxFailures,
          state: r.state,
          stage: r.stage,
          stage_started_at: r.stageStartedAt,
          reason: r.reason,
          created_by: r.createdBy,
          created_at: r.createdAt,
          updated_at: r.updatedAt,
        });
      }),
    get: (id) =>
      run(() => {
        const row = get.get(id);
        return row ? toRecord(row) : undefined;
      }),
    list: (limit) => run(() => list.all(limit).map(toRecord)),
    active: () => run(() => active.all().map(toRecord)),
    update: (id, p) =>
      run(() => {
        update.run({
          id,
          state: p.state,
          stage: p.stage,
          stage_started_at: p.stageStartedAt,
          reason: p.reason,
          updated_at: p.updatedAt,
        });
      }),
    nodes: (rolloutId) => run(() => nodes.all(rolloutId).map(toNode)),
    node: (rolloutId, nodeId) =>
      run(() => {
        const row = node.get(rolloutId, nodeId);
        return row ? toNode(row) : undefined;
      }),
    setNode: (n) =>
      run(() => {
        setNode.run({
          rollout_id: n.rolloutId,
          node_id: n.nodeId,
          version: n.version,
          state: n.state,
          error: n.error,
          updated_at: n.updatedAt,
        });
      }),
    rolledBackNodes: (version) => run(() => new Set(rolledBack.all(version).map((r) => r.node_id))),
  });
}
