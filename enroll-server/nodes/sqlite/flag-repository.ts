import type { Db } from '../../core/sqlite/database.js';
import type { Run } from '../../core/sqlite/engine.js';
import type { FlagRepository, NodeFlag } from '../flag-repository.js';

interface FlagRow {
  id: number;
  node_id: string | null;
  kind: string;
  message: string;
  details: string | null;
  created_at: number;
  count: number;
  last_seen_at: number | null;
  resolved_at: number | null;
}

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

export function sqliteFlagRepository(db: Db): (run: Run) => FlagRepository {
  // The partial unique index node_flags_open holds one open flag per (node, kind).
  const upsert = db.prepare(
    `INSERT INTO node_flags (node_id, kind, message, details, created_at, last_seen_at)
     VALUES (@nodeId, @kind, @message, @details, @at, @at)
     ON CONFLICT (node_id, kind) WHERE resolved_at IS NULL DO UPDATE SET
       count = count + 1, last_seen_at = excluded.last_seen_at,
       message = excluded.message, details = excluded.details`,
  );
  const forNode = db.prepare<[string, number, number], FlagRow>(
    'SELECT * FROM node_flags WHERE node_id = ? ORDER BY last_seen_at DESC, id DESC LIMIT ? OFFSET ?',
  );
  const countForNode = db.prepare<[string], { n: number }>(
    'SELECT COUNT(*) AS n FROM node_flags WHERE node_id = ?',
  );
  return (run) => ({
    add(nodeId, kind, message, details, at) {
      return run(() => {
        upsert.run({ nodeId, kind, message, details: JSON.stringify(details), at });
      });
    },
    forNode(nodeId, limit, offset) {
      return run(() => ({
        flags: forNode.all(nodeId, limit, offset).map(toFlag),
        total: countForNode.get(nodeId)?.n ?? 0,
      }));
    },
  });
}
