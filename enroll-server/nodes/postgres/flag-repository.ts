import type { Sql } from '../../core/postgres/engine.js';
import type { FlagRepository, NodeFlag } from '../flag-repository.js';

type FlagRow = {
  id: number;
  node_id: string | null;
  kind: string;
  message: string;
  details: string | null;
  created_at: number;
  count: number;
  last_seen_at: number | null;
  resolved_at: number | null;
};

const toFlag = (r: FlagRow): NodeFlag => ({
  id: r.id,
  nodeId: r.node_id,
  kind: r.kind,
  message: r.message,
  details: r.details === null ? null : (JSON.parse(r.details) as unknown),
  createdAt: r.created_at,
  count: r.count,
  lastSeenAt: r.last_seen_at ?? r.created_at,
  resolvedAt: r.resolved_at,
});

export function postgresFlagRepository(sql: Sql): FlagRepository {
  return {
    // The partial unique index node_flags_open holds one open flag per (node, kind).
    add: async (nodeId, kind, message, details, at) => {
      await sql.run(
        `INSERT INTO node_flags (node_id, kind, message, details, created_at, last_seen_at)
         VALUES ($1, $2, $3, $4, $5, $5)
         ON CONFLICT (node_id, kind) WHERE resolved_at IS NULL DO UPDATE SET
           count = node_flags.count + 1, last_seen_at = excluded.last_seen_at,
           message = excluded.message, details = excluded.details`,
        [nodeId, kind, message, JSON.stringify(details), at],
      );
    },
    forNode: async (nodeId, limit, offset) => {
      // One statement, so that the page and its total come from one snapshot.
      const rows = await sql.rows<FlagRow & { total: number }>(
        `SELECT f.*, t.total FROM (SELECT COUNT(*)::integer AS total FROM node_flags WHERE node_id = $1) t
         LEFT JOIN LATERAL (
           SELECT * FROM node_flags WHERE node_id = $1 ORDER BY last_seen_at DESC, id DESC LIMIT $2 OFFSET $3
         ) f ON true`,
        [nodeId, limit, offset],
      );
      const total = rows[0]?.total ?? 0;
      return { flags: rows.filter((r) => r.id !== null).map(toFlag), total };
    },
  };
}
