import type { Sql } from '../../core/postgres/engine.js';
import type { NodeSessionRecord, ReplicaRecord, ReplicaRepository } from '../replica-repository.js';

type ReplicaRow = {
  id: string;
  url: string | null;
  started_at: number;
  heartbeat_at: number;
  stopped_at: number | null;
  stop_reason: string | null;
};

type SessionRow = {
  node_id: string;
  replica_id: string;
  session_id: string;
  connected_at: number;
  shell_enabled: boolean;
};

const toReplica = (r: ReplicaRow): ReplicaRecord => ({
  id: r.id,
  url: r.url,
  startedAt: r.started_at,
  heartbeatAt: r.heartbeat_at,
  stoppedAt: r.stopped_at,
  stopReason: r.stop_reason,
});

const toSession = (r: SessionRow): NodeSessionRecord => ({
  nodeId: r.node_id,
  replicaId: r.replica_id,
  sessionId: r.session_id,
  connectedAt: r.connected_at,
  shellEnabled: r.shell_enabled,
});

/** A replica is live while it has not stopped and its heartbeat is newer than the lapse. */
const live = (now: string, lapse: string) =>
  `r.stopped_at IS NULL AND r.heartbeat_at > ${now}::bigint - ${lapse}::bigint`;

export function postgresReplicaRepository(sql: Sql): ReplicaRepository {
  return {
    register: async ({ id, url, now }) => {
      await sql.run(
        `INSERT INTO replicas (id, url, started_at, heartbeat_at) VALUES ($1, $2, $3, $3)
         ON CONFLICT (id) DO UPDATE SET url = excluded.url, heartbeat_at = excluded.heartbeat_at,
           stopped_at = NULL, stop_reason = NULL`,
        [id, url, now],
      );
    },
    heartbeat: async (id, now) =>
      (await sql.run('UPDATE replicas SET heartbeat_at = $2 WHERE id = $1 AND stopped_at IS NULL', [
        id,
        now,
      ])) === 1,
    stop: async (id, now, reason) => {
      await sql.run(
        `WITH stopped AS (UPDATE replicas SET stopped_at = $2, stop_reason = $3 WHERE id = $1 AND stopped_at IS NULL)
         DELETE FROM node_sessions WHERE replica_id = $1`,
        [id, now, reason],
      );
    },
    live: async (now, lapseMs) =>
      (
        await sql.rows<ReplicaRow>(
          `SELECT r.* FROM replicas r WHERE ${live('$1', '$2')} ORDER BY r.started_at, r.id`,
          [now, lapseMs],
        )
      ).map(toReplica),
    get: async (id) => {
      const row = await sql.row<ReplicaRow>('SELECT * FROM replicas WHERE id = $1', [id]);
      return row && toReplica(row);
    },
    // One statement: the dead replicas, their presence and their claims change together.
    reap: async (self, now, lapseMs, reason) => {
      const row = await sql.row<{ replicas: string[] | null; intervals: number; sessions: number }>(
        `WITH dead AS (
           UPDATE replicas SET stopped_at = $2, stop_reason = $4
           WHERE id <> $1 AND stopped_at IS NULL AND heartbeat_at <= $2::bigint - $3::bigint
           RETURNING id),
         closed AS (
           UPDATE presence_intervals SET ended_at = last_seen_at, end_reason = $4
           WHERE ended_at IS NULL AND (replica_id IS NULL OR replica_id IN (SELECT id FROM dead)
             OR replica_id IN (SELECT id FROM replicas WHERE stopped_at IS NOT NULL AND id <> $1))
           RETURNING 1),
         dropped AS (DELETE FROM node_sessions WHERE replica_id IN (SELECT id FROM dead) RETURNING 1)
         SELECT (SELECT array_agg(id ORDER BY id) FROM dead) AS replicas,
           (SELECT COUNT(*) FROM closed) AS intervals, (SELECT COUNT(*) FROM dropped) AS sessions`,
        [self, now, lapseMs, reason],
      );
      return { replicas: row?.replicas ?? [], intervals: row?.intervals ?? 0, sessions: row?.sessions ?? 0 };
    },
    // A newer session (by connect time) wins; what this replica took over is answered.
    claim: async (replicaId, claims) => {
      if (claims.length === 0) return [];
      const rows = await sql.rows<SessionRow>(
        `WITH input AS (
           SELECT * FROM unnest($2::text[], $3::text[], $4::bigint[], $5::boolean[])
             AS t(node_id, session_id, connected_at, shell_enabled)),
         previous AS (
           SELECT s.* FROM node_sessions s JOIN input i ON i.node_id = s.node_id
           WHERE s.replica_id <> $1 AND s.connected_at <= i.connected_at),
         stored AS (
           INSERT INTO node_sessions (node_id, replica_id, session_id, connected_at, shell_enabled)
           SELECT node_id, $1, session_id, connected_at, shell_enabled FROM input
           ON CONFLICT (node_id) DO UPDATE SET replica_id = excluded.replica_id, session_id = excluded.session_id,
             connected_at = excluded.connected_at, shell_enabled = excluded.shell_enabled
           WHERE node_sessions.connected_at <= excluded.connected_at)
         SELECT * FROM previous ORDER BY node_id`,
        [
          replicaId,
          claims.map((c) => c.nodeId),
          claims.map((c) => c.sessionId),
          claims.map((c) => c.connectedAt),
          claims.map((c) => c.shellEnabled),
        ],
      );
      return rows.map(toSession);
    },
    release: (replicaId, sessions) =>
      sessions.length === 0
        ? Promise.resolve(0)
        : sql.run(
            `DELETE FROM node_sessions s USING unnest($2::text[], $3::text[]) AS t(node_id, session_id)
             WHERE s.replica_id = $1 AND s.node_id = t.node_id AND s.session_id = t.session_id`,
            [replicaId, sessions.map((s) => s.nodeId), sessions.map((s) => s.sessionId)],
          ),
    session: async (nodeId, now, lapseMs) => {
      const row = await sql.row<SessionRow>(
        `SELECT s.* FROM node_sessions s JOIN replicas r ON r.id = s.replica_id WHERE s.node_id = $1 AND ${live('$2', '$3')}`,
        [nodeId, now, lapseMs],
      );
      return row && toSession(row);
    },
    heldElsewhere: async (except, now, lapseMs) =>
      (
        await sql.rows<{ node_id: string }>(
          `SELECT s.node_id FROM node_sessions s JOIN replicas r ON r.id = s.replica_id
           WHERE s.replica_id <> $1 AND ${live('$2', '$3')} ORDER BY s.node_id`,
          [except, now, lapseMs],
        )
      ).map((r) => r.node_id),
  };
}
