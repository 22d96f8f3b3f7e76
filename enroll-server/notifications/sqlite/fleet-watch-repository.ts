import type { Db } from '../../core/sqlite/database.js';
import type { Run } from '../../core/sqlite/engine.js';
import type { FleetWatchRepository } from '../fleet-watch-repository.js';

export function sqliteFleetWatchRepository(db: Db): (run: Run) => FleetWatchRepository {
  const watched = db.prepare<[], { id: string; owner_id: string }>(
    "SELECT id, owner_id FROM nodes WHERE status IN ('approved', 'active')",
  );
  const lastSeen = db.prepare<[string], { node_id: string; at: number }>(
    `SELECT node_id, MAX(COALESCE(ended_at, last_seen_at)) AS at FROM presence_intervals
     WHERE node_id IN (SELECT value FROM json_each(?)) GROUP BY node_id`,
  );
  const pending = db.prepare<
    { before: number; realert: number; limit: number },
    { id: string; owner_id: string; updated_at: number }
  >(
    `SELECT n.id, n.owner_id, n.updated_at FROM nodes n LEFT JOIN pending_alerts a ON a.node_id = n.id
     WHERE n.status = 'pending' AND n.updated_at <= @before AND (a.alerted_at IS NULL OR a.alerted_at < @realert)
     ORDER BY n.updated_at, n.id LIMIT @limit`,
  );
  const alert = db.prepare(
    `INSERT INTO pending_alerts (node_id, alerted_at) VALUES (?, ?)
     ON CONFLICT (node_id) DO UPDATE SET alerted_at = excluded.alerted_at`,
  );
  const notices = db.prepare<[], { node_id: string; offline_since: number }>(
    'SELECT node_id, offline_since FROM offline_notices',
  );
  const open = db.prepare(
    'INSERT OR IGNORE INTO offline_notices (node_id, offline_since, notified_at) VALUES (?, ?, ?)',
  );
  const close = db.prepare('DELETE FROM offline_notices WHERE node_id = ?');
  return (run) => ({
    watched: () => run(() => watched.all().map((r) => ({ id: r.id, ownerId: r.owner_id }))),
    lastSeen: (nodeIds) =>
      run(() => new Map(lastSeen.all(JSON.stringify(nodeIds)).map((r) => [r.node_id, r.at]))),
    pendingWaiting: (before, realertBefore, limit) =>
      run(() =>
        pending
          .all({ before, realert: realertBefore, limit })
          .map((r) => ({ id: r.id, ownerId: r.owner_id, since: r.updated_at })),
      ),
    recordPendingAlerts: (nodeIds, at) =>
      run(() => {
        for (const id of nodeIds) alert.run(id, at);
      }),
    openNotices: () =>
      run(() => notices.all().map((r) => ({ nodeId: r.node_id, offlineSince: r.offline_since }))),
    openNotice: (nodeId, offlineSince, at) => run(() => open.run(nodeId, offlineSince, at).changes === 1),
    closeNotice: (nodeId) => run(() => close.run(nodeId).changes === 1),
  });
}
