import type { Sql } from '../../core/postgres/engine.js';
import type {
  RolloutNodeRecord,
  RolloutNodeState,
  RolloutRecord,
  RolloutRepository,
  RolloutStage,
  RolloutState,
} from '../rollout-repository.js';

type Row = {
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
};
type NodeRow = {
  rollout_id: string;
  node_id: string;
  version: string;
  state: string;
  error: string | null;
  updated_at: number;
};

const COLUMNS =
  'id, artifact, version, stages, max_failures, state, stage, stage_started_at, reason, created_by, created_at, updated_at';
const NODE_COLUMNS = 'rollout_id, node_id, version, state, error, updated_at';

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

export function postgresRolloutRepository(sql: Sql): RolloutRepository {
  return {
    insert: async (r) => {
      await sql.run(
        `INSERT INTO rollouts (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
        [
          r.id,
          r.artifact,
          r.version,
          JSON.stringify(r.stages),
          r.maxFailures,
          r.state,
          r.stage,
          r.stageStartedAt,
          r.reason,
          r.createdBy,
          r.createdAt,
          r.updatedAt,
        ],
      );
    },
    get: async (id) => {
      const row = await sql.row<Row>(`SELECT ${COLUMNS} FROM rollouts WHERE id = $1`, [id]);
      return row ? toRecord(row) : undefined;
    },
    list: async (limit) =>
      (
        await sql.rows<Row>(`SELECT ${COLUMNS} FROM rollouts ORDER BY created_at DESC, id DESC LIMIT $1`, [
          limit,
        ])
      ).map(toRecord),
    active: async () =>
      (
        await sql.rows<Row>(`SELECT ${COLUMNS} FROM rollouts WHERE state = 'active' ORDER BY created_at, id`)
      ).map(toRecord),
    update: async (id, p) => {
      await sql.run(
        'UPDATE rollouts SET state = $2, stage = $3, stage_started_at = $4, reason = $5, updated_at = $6 WHERE id = $1',
        [id, p.state, p.stage, p.stageStartedAt, p.reason, p.updatedAt],
      );
    },
    nodes: async (rolloutId) =>
      (
        await sql.rows<NodeRow>(
          `SELECT ${NODE_COLUMNS} FROM rollout_nodes WHERE rollout_id = $1 ORDER BY node_id`,
          [rolloutId],
        )
      ).map(toNode),
    node: async (rolloutId, nodeId) => {
      const row = await sql.row<NodeRow>(
        `SELECT ${NODE_COLUMNS} FROM rollout_nodes WHERE rollout_id = $1 AND node_id = $2`,
        [rolloutId, nodeId],
      );
      return row ? toNode(row) : undefined;
    },
    setNode: async (n) => {
      await sql.run(
        `INSERT INTO rollout_nodes (${NODE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (rollout_id, node_id) DO UPDATE SET version = excluded.version, state = excluded.state,
           error = excluded.error, updated_at = excluded.updated_at`,
        [n.rolloutId, n.nodeId, n.version, n.state, n.error, n.updatedAt],
      );
    },
    rolledBackNodes: async (version) =>
      new Set(
        (
          await sql.rows<{ node_id: string }>(
            "SELECT DISTINCT node_id FROM rollout_nodes WHERE version = $1 AND state = 'rolled-back'",
            [version],
          )
        ).map((r) => r.node_id),
      ),
  };
}
