import type { Sql } from '../../core/postgres/engine.js';
import type { NetworkRepository, NodeNetwork } from '../network-repository.js';

type Row = {
  node_id: string;
  overlay_index: number;
  wireguard_public_key: string | null;
  joined_at: number | null;
};

const toNetwork = (r: Row): NodeNetwork => ({
  nodeId: r.node_id,
  overlayIndex: r.overlay_index,
  wireguardPublicKey: r.wireguard_public_key,
  joinedAt: r.joined_at,
});

export function postgresNetworkRepository(sql: Sql): NetworkRepository {
  return {
    // The slot comes from the column's own sequence, so that two replicas never hand out one slot
    // twice; a node that has a slot keeps it.
    ensure: async (nodeId, now) => {
      const existing = await sql.row<Row>('SELECT * FROM node_network WHERE node_id = $1', [nodeId]);
      if (existing) return toNetwork(existing);
      const row =
        (await sql.row<Row>(
          `INSERT INTO node_network (node_id, updated_at) VALUES ($1, $2)
           ON CONFLICT (node_id) DO NOTHING RETURNING *`,
          [nodeId, now],
        )) ?? (await sql.row<Row>('SELECT * FROM node_network WHERE node_id = $1', [nodeId]));
      if (!row) throw new Error(`No overlay slot could be stored for node ${nodeId}.`);
      return toNetwork(row);
    },
    setJoined: async (nodeId, wireguardPublicKey, now) => {
      await sql.run(
        'UPDATE node_network SET wireguard_public_key = $1, joined_at = $2, updated_at = $2 WHERE node_id = $3',
        [wireguardPublicKey, now, nodeId],
      );
    },
    holderOf: async (key) =>
      (
        await sql.row<{ node_id: string }>(
          'SELECT node_id FROM node_network WHERE wireguard_public_key = $1',
          [key],
        )
      )?.node_id,
    peers: async () =>
      (
        await sql.rows<Row & { status: string }>(
          `SELECT nn.*, n.status FROM node_network nn JOIN nodes n ON n.id = nn.node_id ORDER BY nn.overlay_index`,
        )
      ).map((r) => ({ ...toNetwork(r), status: r.status })),
  };
}
