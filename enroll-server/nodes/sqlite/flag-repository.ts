import type { Db } from '../../core/sqlite/database.js';

export interface NodeFlag {
  id: number;
  nodeId: string | null;
  kind: string;
  message: string;
  details: unknown;
  createdAt: number;
  resolvedAt: number | null;
}

interface FlagRow {
  id: number;
  node_id: string | null;
  kind: string;
  message: string;
  details: string | null;
  created_at: number;
  resolved_at: number | null;
}

export function createFlagRepository(db: Db) {
  const insert = db.prepare(
    'INSERT INTO node_flags (node_id, kind, message, details, created_at) VALUES (?, ?, ?, ?, ?)',
  );
  const forNode = db.prepare<[string], FlagRow>('SELECT * FROM node_flags WHERE node_id = ? ORDER BY id');
  return {
    add(nodeId: string | null, kind: string, message: string, details: unknown, at: number): void {
      insert.run(nodeId, kind, message, JSON.stringify(details), at);
    },
    forNode(nodeId: string): NodeFlag[] {
      return forNode.all(nodeId).map((r) => ({
        id: r.id,
        nodeId: r.node_id,
        kind: r.kind,
        message: r.message,
        details: r.details === null ? null : (JSON.parse(r.details) as unknown),
        createdAt: r.created_at,
        resolvedAt: r.resolved_at,
      }));
    },
  };
}
export type FlagRepository = ReturnType<typeof createFlagRepository>;
