import type { Sql } from '../../core/postgres/engine.js';
import type { PresenceInterval, PresenceRepository } from '../presence-repository.js';

type Row = {
  id: string;
  node_id: string;
  started_at: number;
  last_seen_at: number;
  ended_at: number | null;
  end_reason: string | null;
};

const toInterval = (r: Row): PresenceInterval => ({
  id: r.id,
  nodeId: r.node_id,
  startedAt: r.started_at,
  lastSeenAt: r.last_seen_at,
  endedAt: r.ended_at,
  endReason: r.end_reason,
});

export function postgresPresenceRepository(sql: Sql): PresenceRepository {
  return {
    // One statement for the whole batch (atomic on its own); rows in id order, so that two writers
    // touching the same intervals lock them in the same order.
    write: async (rows) => {
      if (rows.length === 0) return;
      const sorted = [...rows].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      await sql.run(
        `INSERT INTO presence_intervals (id, node_id, started_at, last_seen_at, ended_at, end_reason, boot_id, replica_id)
         SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::text[], $7::text[],
           $8::text[])
         ON CONFLICT (id) DO UPDATE SET last_seen_at = GREATEST(presence_intervals.last_seen_at, excluded.last_seen_at),
           ended_at = COALESCE(presence_intervals.ended_at, excluded.ended_at),
           end_reason = COALESCE(presence_intervals.end_reason, excluded.end_reason)`,
        [
          sorted.map((r) => r.id),
          sorted.map((r) => r.nodeId),
          sorted.map((r) => r.startedAt),
          sorted.map((r) => r.lastSeenAt),
          sorted.map((r) => r.endedAt),
          sorted.map((r) => r.endReason),
          sorted.map((r) => r.bootId),
          sorted.map((r) => r.replicaId ?? null),
        ],
      );
    },
    closeAllOpen: (reason) =>
      sql.run(
        'UPDATE presence_intervals SET ended_at = last_seen_at, end_reason = $1 WHERE ended_at IS NULL',
        [reason],
      ),
    forNode: async (nodeId, from) =>
      (
        await sql.rows<Row>(
          `SELECT id, node_id, started_at, last_seen_at, ended_at, end_reason FROM presence_intervals
           WHERE node_id = $1 AND COALESCE(ended_at, last_seen_at) >= $2 ORDER BY started_at, id`,
          [nodeId, from],
        )
      ).map(toInterval),
    lastSeenAt: async (nodeId) =>
      (
        await sql.row<{ at: number | null }>(
          'SELECT MAX(COALESCE(ended_at, last_seen_at)) AS at FROM presence_intervals WHERE node_id = $1',
          [nodeId],
        )
      )?.at ?? null,
  };
}
