-- Replicas: every server process registers itself and keeps a heartbeat; which replica holds
-- which node's control session; which replica wrote each presence interval, so that the others
-- can close a dead replica's intervals at their last sign of life. With SQLite there is one
-- process, so one live replica; the same tables keep PostgreSQL and SQLite behind one interface.

CREATE TABLE replicas (
  id TEXT PRIMARY KEY,
  url TEXT,
  started_at INTEGER NOT NULL,
  heartbeat_at INTEGER NOT NULL,
  stopped_at INTEGER,
  stop_reason TEXT
);
CREATE INDEX replicas_live ON replicas (heartbeat_at) WHERE stopped_at IS NULL;

CREATE TABLE node_sessions (
  node_id TEXT PRIMARY KEY REFERENCES nodes (id),
  replica_id TEXT NOT NULL REFERENCES replicas (id),
  session_id TEXT NOT NULL,
  connected_at INTEGER NOT NULL,
  shell_enabled INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX node_sessions_replica ON node_sessions (replica_id);

ALTER TABLE presence_intervals ADD COLUMN replica_id TEXT;
CREATE INDEX presence_intervals_open_replica ON presence_intervals (replica_id) WHERE ended_at IS NULL;
