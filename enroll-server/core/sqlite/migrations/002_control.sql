-- Control channel: presence intervals, usage reports, overlay network, commands, shell sessions.

-- One row per control session. ended_at is NULL while the session is live; last_seen_at is
-- refreshed in batches, so a crash leaves the interval closable at its last sign of life.
CREATE TABLE presence_intervals (
  id TEXT PRIMARY KEY,
  node_id TEXT NOT NULL REFERENCES nodes (id),
  started_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  ended_at INTEGER,
  end_reason TEXT,
  boot_id TEXT,
  CHECK (last_seen_at >= started_at),
  CHECK (ended_at IS NULL OR ended_at >= started_at)
);
CREATE INDEX presence_intervals_node ON presence_intervals (node_id, started_at);
CREATE INDEX presence_intervals_open ON presence_intervals (ended_at) WHERE ended_at IS NULL;

-- Signed workload reports, stored once per (node, seq).
CREATE TABLE usage_reports (
  node_id TEXT NOT NULL REFERENCES nodes (id),
  seq INTEGER NOT NULL,
  from_at INTEGER NOT NULL,
  to_at INTEGER NOT NULL,
  workloads TEXT NOT NULL,
  jws TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  PRIMARY KEY (node_id, seq)
);
CREATE INDEX usage_reports_time ON usage_reports (from_at);

-- Each node's place in the private overlay and its WireGuard public key.
CREATE TABLE node_network (
  node_id TEXT PRIMARY KEY REFERENCES nodes (id),
  overlay_index INTEGER NOT NULL UNIQUE,
  wireguard_public_key TEXT,
  joined_at INTEGER,
  updated_at INTEGER NOT NULL
);

-- Commands sent to nodes and their results (diagnostics bundles included).
CREATE TABLE node_commands (
  id TEXT PRIMARY KEY,
  node_id TEXT NOT NULL REFERENCES nodes (id),
  name TEXT NOT NULL,
  args TEXT NOT NULL,
  requested_by TEXT,
  requested_at INTEGER NOT NULL,
  finished_at INTEGER,
  ok INTEGER,
  output TEXT,
  error TEXT
);
CREATE INDEX node_commands_node ON node_commands (node_id, requested_at);

-- Remote shell sessions; the recording (asciicast v2) lives on disk at recording_path.
CREATE TABLE shell_sessions (
  id TEXT PRIMARY KEY,
  node_id TEXT NOT NULL REFERENCES nodes (id),
  opened_by TEXT NOT NULL,
  opened_at INTEGER NOT NULL,
  closed_at INTEGER,
  close_reason TEXT,
  recording_path TEXT NOT NULL,
  bytes_out INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX shell_sessions_node ON shell_sessions (node_id, opened_at);
