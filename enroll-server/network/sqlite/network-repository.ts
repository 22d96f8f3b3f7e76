import type { Db } from '../../core/sqlite/database.js';
import type { Run } from '../../core/sqlite/engine.js';
import type { NetworkRepository, NodeNetwork } from '../network-repository.js';

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

export function sqliteNetworkRepository(db: Db): (run: Run) => NetworkRepository {
  const get = db.prepare<[string], Row>('SELECT * FROM node_network WHERE node_id = ?');
  const next = db.prepare<[], { n: number | null }>('SELECT MAX(overlay_index) AS n FROM node_network');
  const insert = db.prepare('INSERT INTO node_network (node_id, overlay_index, updated_at) VALUES (?, ?, ?)');
  const setKey = db.prepare(
    'UPDATE node_network SET wireguard_public_key = ?, joined_at = ?, updated_at = ? WHERE node_id = ?',
  );
  const holder = db.prepare<[string], { node_id: string }>(
    'SELECT node_id FROM node_network WHERE wireguard_public_key = ?',
  );
  const all = db.prepare<[], Row & { status: string }>(
    `SELECT nn.*, n.status FROM node_network nn JOIN nodes n ON n.id = nn.node_id ORDER BY nn.overlay_index`,
  );
  return (run) => ({
    // One synchronous piece of work: no other call can take the same slot in between.
    ensure(nodeId, now) {
      return run(() => {
        const existing = get.get(nodeId);
        if (existing) return toNetwork(existing);
        const index = Math.max(1, next.get()?.n ?? 1) + 1;
        insert.run(nodeId, index, now);
        return { nodeId, overlayIndex: index, wireguardPublicKey: null, joinedAt: null };
      });
    },
    setJoined(nodeId, wireguardPublicKey, now) {
      return run(() => {
        setKey.run(wireguardPublicKey, now, now, nodeId);
      });
    },
    holderOf(key) {
      return run(() => holder.get(key)?.node_id);
    },
    peers() {
      return run(() => all.all().map((r) => ({ ...toNetwork(r), status: r.status })));
    },
  });
}
