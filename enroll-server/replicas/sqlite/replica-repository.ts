import type { Db } from '../../core/sqlite/database.js';
import type { Run } from '../../core/sqlite/engine.js';
import type {
  NodeSessionRecord,
  ReplicaRecord,
  ReplicaRepository,
  SessionClaim,
} from '../replica-repository.js';

interface ReplicaRow {
  id: string;
  url: string | null;
  started_at: number;
  heartbeat_at: number;
  stopped_at: number | null;
  stop_reason: string | null;
}

interface SessionRow {
  node_id: string;
  replica_id: string;
  session_id: string;
  connected_at: number;
  shell_enabled: number;
}

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
  shellEnabled: r.shell_enabled === 1,
});

const LIVE = 'r.stopped_at IS NULL AND r.heartbeat_at > @now - @lapse';

export function sqliteReplicaRepository(db: Db): (run: Run) => ReplicaRepository {
  const q = {
    register: db.prepare(
      `INSERT INTO replicas (id, url, started_at, heartbeat_at) VALUES (@id, @url, @now, @now)
       ON CONFLICT (id) DO UPDATE SET url = excluded.url, heartbeat_at = excluded.heartbeat_at,
         stopped_at = NULL, stop_reason = NULL`,
    ),
    heartbeat: db.prepare('UPDATE replicas SET heartbeat_at = ? WHERE id = ? AND stopped_at IS NULL'),
    stop: db.prepare(
      'UPDATE replicas SET stopped_at = ?, stop_reason = ? WHERE id = ? AND stopped_at IS NULL',
    ),
    dropSessions: db.prepare('DELETE FROM node_sessions WHERE replica_id = ?'),
    live: db.prepare<{ now: number; lapse: number }, ReplicaRow>(
      `SELECT r.* FROM replicas r WHERE ${LIVE} ORDER BY r.started_at, r.id`,
    ),
    get: db.prepare<[string], ReplicaRow>('SELECT * FROM replicas WHERE id = ?'),
    lapsed: db.prepare<{ self: string; now: number; lapse: number }, { id: string }>(
      `SELECT id FROM replicas WHERE id != @self AND stopped_at IS NULL AND heartbeat_at <= @now - @lapse ORDER BY id`,
    ),
    markDead: db.prepare('UPDATE replicas SET stopped_at = ?, stop_reason = ? WHERE id = ?'),
    closeOrphans: db.prepare(
      `UPDATE presence_intervals SET ended_at = last_seen_at, end_reason = @reason
       WHERE ended_at IS NULL AND (replica_id IS NULL
         OR replica_id IN (SELECT id FROM replicas WHERE stopped_at IS NOT NULL AND id != @self))`,
    ),
    existing: db.prepare<[string], SessionRow>('SELECT * FROM node_sessions WHERE node_id = ?'),
    upsert: db.prepare(
      `INSERT INTO node_sessions (node_id, replica_id, session_id, connected_at, shell_enabled)
       VALUES (@nodeId, @replicaId, @sessionId, @connectedAt, @shellEnabled)
       ON CONFLICT (node_id) DO UPDATE SET replica_id = excluded.replica_id, session_id = excluded.session_id,
         connected_at = excluded.connected_at, shell_enabled = excluded.shell_enabled
       WHERE node_sessions.connected_at <= excluded.connected_at`,
    ),
    release: db.prepare('DELETE FROM node_sessions WHERE replica_id = ? AND node_id = ? AND session_id = ?'),
    session: db.prepare<{ nodeId: string; now: number; lapse: number }, SessionRow>(
      `SELECT s.* FROM node_sessions s JOIN replicas r ON r.id = s.replica_id WHERE s.node_id = @nodeId AND ${LIVE}`,
    ),
    heldElsewhere: db.prepare<{ except: string; now: number; lapse: number }, { node_id: string }>(
      `SELECT s.node_id FROM node_sessions s JOIN replicas r ON r.id = s.replica_id
       WHERE s.replica_id != @except AND ${LIVE} ORDER BY s.node_id`,
    ),
  };
  // Inside an open transaction better-sqlite3 makes these savepoints.
  const stop = db.transaction((id: string, now: number, reason: string) => {
    q.stop.run(now, reason, id);
    q.dropSessions.run(id);
  });
  const reap = db.transaction((self: string, now: number, lapse: number, reason: string) => {
    const dead = q.lapsed.all({ self, now, lapse }).map((r) => r.id);
    let sessions = 0;
    for (const id of dead) {
      q.markDead.run(now, reason, id);
      sessions += q.dropSessions.run(id).changes;
    }
    const intervals = q.closeOrphans.run({ reason, self }).changes;
    return { replicas: dead, intervals, sessions };
  });
  const claim = db.transaction((replicaId: string, claims: readonly SessionClaim[]) => {
    const replaced: NodeSessionRecord[] = [];
    for (const c of claims) {
      const previous = q.existing.get(c.nodeId);
      if (previous && previous.replica_id !== replicaId && previous.connected_at <= c.connectedAt)
        replaced.push(toSession(previous));
      q.upsert.run({ ...c, replicaId, shellEnabled: c.shellEnabled ? 1 : 0 });
    }
    return replaced.sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0));
  });
  const release = db.transaction(
    (replicaId: string, sessions: readonly { nodeId: string; sessionId: string }[]) =>
      sessions.reduce((n, s) => n + q.release.run(replicaId, s.nodeId, s.sessionId).changes, 0),
  );
  return (run) => ({
    register: ({ id, url, now }) =>
      run(() => {
        q.register.run({ id, url, now });
      }),
    heartbeat: (id, now) => run(() => q.heartbeat.run(now, id).changes === 1),
    stop: (id, now, reason) =>
      run(() => {
        stop(id, now, reason);
      }),
    live: (now, lapse) => run(() => q.live.all({ now, lapse }).map(toReplica)),
    get: (id) =>
      run(() => {
        const row = q.get.get(id);
        return row && toReplica(row);
      }),
    reap: (self, now, lapse, reason) => run(() => reap(self, now, lapse, reason)),
    claim: (replicaId, claims) => run(() => (claims.length ? claim(replicaId, claims) : [])),
    release: (replicaId, sessions) => run(() => (sessions.length ? release(replicaId, sessions) : 0)),
    session: (nodeId, now, lapse) =>
      run(() => {
        const row = q.session.get({ nodeId, now, lapse });
        return row && toSession(row);
      }),
    heldElsewhere: (except, now, lapse) =>
      run(() => q.heldElsewhere.all({ except, now, lapse }).map((r) => r.node_id)),
  });
}
