import type { Db } from '../../core/sqlite/database.js';
import type { Run } from '../../core/sqlite/engine.js';
import type { PresenceInterval, PresenceRepository, PresenceWrite } from '../presence-repository.js';

interface Row {
  id: string;
  node_id: string;
  started_at: number;
  last_seen_at: number;
  ended_at: number | null;
  end_reason: string | null;
}

const toInterval = (r: Row): PresenceInterval => ({
  id: r.id,
  nodeId: r.node_id,
  startedAt: r.started_at,
  lastSeenAt: r.last_seen_at,
  endedAt: r.ended_at,
  endReason: r.end_reason,
});

export function sqlitePresenceRepository(db: Db): (run: Run) => PresenceRepository {
  const upsert = db.prepare(
    `INSERT INTO presence_intervals (id, node_id, started_at, last_seen_at, ended_at, end_reason, boot_id, replica_id)
     VALUES (@id, @nodeId, @startedAt, @lastSeenAt, @endedAt, @endReason, @bootId, @replicaId)
     ON CONFLICT (id) DO UPDATE SET last_seen_at = MAX(last_seen_at, excluded.last_seen_at),
       ended_at = COALESCE(ended_at, excluded.ended_at), end_reason = COALESCE(end_reason, excluded.end_reason)`,
  );
  const closeOpen = db.prepare(
    `UPDATE presence_intervals SET ended_at = last_seen_at, end_reason = @reason WHERE ended_at IS NULL`,
  );
  const forNode = db.prepare<{ nodeId: string; from: number }, Row>(
    `SELECT * FROM presence_intervals WHERE node_id = @nodeId AND COALESCE(ended_at, last_seen_at) >= @from ORDER BY started_at`,
  );
  const lastSeen = db.prepare<[string], { at: number | null }>(
    'SELECT MAX(COALESCE(ended_at, last_seen_at)) AS at FROM presence_intervals WHERE node_id = ?',
  );
  // Inside an open transaction better-sqlite3 makes this a savepoint.
  const writeMany = db.transaction((rows: readonly PresenceWrite[]) => {
    for (const row of rows) upsert.run({ ...row, replicaId: row.replicaId ?? null });
  });
  return (run) => ({
    write(rows) {
      return run(() => {
        if (rows.length) writeMany(rows);
      });
    },
    closeAllOpen(reason) {
      return run(() => closeOpen.run({ reason }).changes);
    },
    forNode(nodeId, from) {
      return run(() => forNode.all({ nodeId, from }).map(toInterval));
    },
    lastSeenAt(nodeId) {
      return run(() => lastSeen.get(nodeId)?.at ?? null);
    },
  });
}
