import type { Db } from '../../core/sqlite/database.js';

export interface PresenceInterval {
  id: string;
  nodeId: string;
  startedAt: number;
  lastSeenAt: number;
  endedAt: number | null;
  endReason: string | null;
}

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

/** A batch of presence changes, written in one transaction. */
export interface PresenceWrite {
  id: string;
  nodeId: string;
  startedAt: number;
  lastSeenAt: number;
  endedAt: number | null;
  endReason: string | null;
  bootId: string | null;
}

export function createPresenceRepository(db: Db) {
  const upsert = db.prepare(
    `INSERT INTO presence_intervals (id, node_id, started_at, last_seen_at, ended_at, end_reason, boot_id)
     VALUES (@id, @nodeId, @startedAt, @lastSeenAt, @endedAt, @endReason, @bootId)
     ON CONFLICT (id) DO UPDATE SET last_seen_at = MAX(last_seen_at, excluded.last_seen_at),
       ended_at = COALESCE(ended_at, excluded.ended_at), end_reason = COALESCE(end_reason, excluded.end_reason)`,
  );
  const closeOpen = db.prepare(
    `UPDATE presence_intervals SET ended_at = last_seen_at, end_reason = @reason WHERE ended_at IS NULL`,
  );
  const forNode = db.prepare<{ nodeId: string; from: number }, Row>(
    `SELECT * FROM presence_intervals WHERE node_id = @nodeId AND COALESCE(ended_at, last_seen_at) >= @from ORDER BY started_at`,
  );
  const since = db.prepare<{ from: number; to: number }, Row>(
    `SELECT * FROM presence_intervals WHERE COALESCE(ended_at, last_seen_at) >= @from AND started_at < @to ORDER BY node_id, started_at`,
  );
  const lastSeen = db.prepare<[string], { at: number | null }>(
    'SELECT MAX(COALESCE(ended_at, last_seen_at)) AS at FROM presence_intervals WHERE node_id = ?',
  );
  const writeMany = db.transaction((rows: readonly PresenceWrite[]) => {
    for (const row of rows) upsert.run(row);
  });
  return {
    write(rows: readonly PresenceWrite[]): void {
      if (rows.length) writeMany(rows);
    },
    /** After a crash: close every interval still open at its last sign of life. */
    closeAllOpen(reason: string): number {
      return closeOpen.run({ reason }).changes;
    },
    forNode(nodeId: string, from: number): PresenceInterval[] {
      return forNode.all({ nodeId, from }).map(toInterval);
    },
    between(from: number, to: number): PresenceInterval[] {
      return since.all({ from, to }).map(toInterval);
    },
    lastSeenAt(nodeId: string): number | null {
      return lastSeen.get(nodeId)?.at ?? null;
    },
  };
}
export type PresenceRepository = ReturnType<typeof createPresenceRepository>;
