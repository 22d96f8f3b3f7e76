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
  resolved_at: number | null;
}

const toFlag = (r: FlagRow): NodeFlag => ({
  id: r.id,
  nodeId: r.node_id,
  kind: r.kind,
  message: r.message,
  details: r.details === null ? null : (JSON.parse(r.details) as unknown),
  createdAt: r.created_at,
  resolvedAt: r.resolved_at,
});

export function sqliteFlagRepository(db: Db): (run: Run) => FlagRepository {
  const insert = db.prepare(
    'INSERT INTO node_flags (node_id, kind, message, details, created_at) VALUES (?, ?, ?, ?, ?)',
  );
  const forNode = db.prepare<[string], FlagRow>('SELECT * FROM node_flags WHERE node_id = ? ORDER BY id');
  return (run) => ({
    add(nodeId, kind, message, details, at) {
      return run(() => {
        insert.run(nodeId, kind, message, JSON.stringify(details), at);
      });
    },
    forNode(nodeId) {
      return run(() => forNode.all(nodeId).map(toFlag));
    },
  });
}
