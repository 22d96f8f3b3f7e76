import type { Db } from '../../core/sqlite/database.js';

export interface NodeNetwork {
  nodeId: string;
  overlayIndex: number;
  wireguardPublicKey: string | null;
  joinedAt: number | null;
}

interface Row {
  node_id: string;
  overlay_index: number;
  wireguard_public_key: string | null;
  joined_at: number | null;
}

const toNetwork = (r: Row): NodeNetwork => ({
  nodeId: r.node_id,
  overlayIndex: r.overlay_index,
  wireguardPublicKey: r.wireguard_public_key,
  joinedAt: r.joined_at,
});

export function createNetworkRepository(db: Db) {
  const get = db.prepare<[string], Row>('SELECT * FROM node_network WHERE node_id = ?');
  const next = db.prepare<[], { n: number | null }>('SELECT MAX(overlay_index) AS n FROM node_network');
  const insert = db.prepare('INSERT INTO node_network (node_id, overlay_index, updated_at) VALUES (?, ?, ?)');
  const setKey = db.prepare(
    'UPDATE node_network SET wireguard_public_key = ?, joined_at = ?, updated_at = ? WHERE node_id = ?',
  );
  const all = db.prepare<[], Row & { status: string }>(
    `SELECT nn.*, n.status FROM node_network nn JOIN nodes n ON n.id = nn.node_id ORDER BY nn.overlay_index`,
  );
  return {
    /** The node's overlay slot, allocating the next free one (indexes start at 2; 1 is the hub). */
    ensure(nodeId: string, now: number): NodeNetwork {
      const existing = get.get(nodeId);
      if (existing) return toNetwork(existing);
      const index = Math.max(1, next.get()?.n ?? 1) + 1;
      insert.run(nodeId, index, now);
      return { nodeId, overlayIndex: index, wireguardPublicKey: null, joinedAt: null };
    },
    get(nodeId: string): NodeNetwork | undefined {
      const row = get.get(nodeId);
      return row && toNetwork(row);
    },
    setJoined(nodeId: string, wireguardPublicKey: string, now: number): void {
      setKey.run(wireguardPublicKey, now, now, nodeId);
    },
    peers(): (NodeNetwork & { status: string })[] {
      return all.all().map((r) => ({ ...toNetwork(r), status: r.status }));
    },
  };
}
export type NetworkRepository = ReturnType<typeof createNetworkRepository>;
