import type { Sql } from '../../core/postgres/engine.js';
import type { FleetWatchRepository } from '../fleet-watch-repository.js';

export function postgresFleetWatchRepository(sql: Sql): FleetWatchRepository {
  return {
    watched: async () =>
      (
        await sql.rows<{ id: string; owner_id: string }>(
          "SELECT id, owner_id FROM nodes WHERE status IN ('approved', 'active') ORDER BY id",
        )
      ).map((r) => ({ id: r.id, ownerId: r.owner_id })),
    lastSeen: async (nodeIds) =>
      new Map(
        (
          await sql.rows<{ node_id: string; at: number }>(
            `SELECT node_id, MAX(COALESCE(ended_at, last_seen_at)) AS at FROM presence_intervals
             WHERE node_id = ANY($1::text[]) GROUP BY node_id`,
            [[...nodeIds]],
          )
        ).map((r) => [r.node_id, r.at]),
      ),
    pendingWaiting: async (before, realertBefore, limit) =>
      (
        await sql.rows<{ id: string; owner_id: string; updated_at: number }>(
          `SELECT n.id, n.owner_id, n.updated_at FROM nodes n LEFT JOIN pending_alerts a ON a.node_id = n.id
           WHERE n.status = 'pending' AND n.updated_at <= $1 AND (a.alerted_at IS NULL OR a.alerted_at < $2)
           ORDER BY n.updated_at, n.id LIMIT $3`,
          [before, realertBefore, limit],
        )
      ).map((r) => ({ id: r.id, ownerId: r.owner_id, since: r.updated_at })),
    recordPendingAlerts: async (nodeIds, at) => {
      await sql.run(
        `INSERT INTO pending_alerts (node_id, alerted_at) SELECT DISTINCT id, $2::bigint FROM unnest($1::text[]) AS t(id)
         ON CONFLICT (node_id) DO UPDATE SET alerted_at = excluded.alerted_at`,
        [[...nodeIds], at],
      );
    },
    openNotices: async () =>
      (
        await sql.rows<{ node_id: string; offline_since: number }>(
          'SELECT node_id, offline_since FROM offline_notices ORDER BY node_id',
        )
      ).map((r) => ({ nodeId: r.node_id, offlineSince: r.offline_since })),
    openNotice: async (nodeId, offlineSince, at) =>
      (await sql.run(
        'INSERT INTO offline_notices (node_id, offline_since, notified_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
        [nodeId, offlineSince, at],
      )) === 1,
    closeNotice: async (nodeId) =>
      (await sql.run('DELETE FROM offline_notices WHERE node_id = $1', [nodeId])) === 1,
  };
}
