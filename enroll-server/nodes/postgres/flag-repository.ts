import type { Sql } from '../../core/postgres/engine.js';
import type { FlagRepository, NodeFlag } from '../flag-repository.js';

type FlagRow = {
  id: number;
  node_id: string | null;
  kind: string;
  message: string;
  details: string | null;
  created_at: number;
  resolved_at: number | null;
};

const toFlag = (r: FlagRow): NodeFlag => ({
  id: r.id,
  nodeId: r.node_id,
  kind: r.kind,
  message: r.message,
  details: r.details === null ? null : (JSON.parse(r.details) as unknown),
  createdAt: r.created_at,
  resolvedAt: r.resolved_at,
});

export function postgresFlagRepository(sql: Sql): FlagRepository {
  return {
    add: async (nodeId, kind, message, details, at) => {
      await sql.run(
        'INSERT INTO node_flags (node_id, kind, message, details, created_at) VALUES ($1, $2, $3, $4, $5)',
        [nodeId, kind, message, JSON.stringify(details), at],
      );
    },
    forNode: async (nodeId) =>
      (await sql.rows<FlagRow>('SELECT * FROM node_flags WHERE node_id = $1 ORDER BY id', [nodeId])).map(
        toFlag,
      ),
  };
}
