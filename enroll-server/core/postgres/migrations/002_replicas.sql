-- Replicas (as SQLite's 013): every server process registers itself and keeps a heartbeat; which
-- replica holds which node's control session; which replica wrote each presence interval, so that
-- the others close a dead replica's intervals at their last sign of life.

CREATE TABLE replicas (
  id text COLLATE "C" PRIMARY KEY,
  url text COLLATE "C",
  started_at bigint NOT NULL,
  heartbeat_at bigint NOT NULL,
  stopped_at bigint,
  stop_reason text COLLATE "C"
);
CREATE INDEX replicas_live ON replicas (heartbeat_at) WHERE stopped_at IS NULL;

CREATE TABLE node_sessions (
  node_id text COLLATE "C" PRIMARY KEY REFERENCES nodes (id),
  replica_id text COLLATE "C" NOT NULL REFERENCES replicas (id),
  session_id text COLLATE "C" NOT NULL,
  connected_at bigint NOT NULL,
  shell_enabled boolean NOT NULL DEFAULT false
);
CREATE INDEX node_sessions_replica ON node_sessions (replica_id);

ALTER TABLE presence_intervals ADD COLUMN replica_id text COLLATE "C";
CREATE INDEX presence_intervals_open_replica ON presence_intervals (replica_id) WHERE ended_at IS NULL;
