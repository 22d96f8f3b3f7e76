-- Agent rollouts (docs/updates.md): a rollout offers one agent release to the fleet in stages;
-- rollout_nodes holds each node's state in it. A node's 'rolled-back' row for a version means that
-- version is never offered to that node again.
CREATE TABLE rollouts (
  id TEXT PRIMARY KEY,
  artifact TEXT NOT NULL,
  version TEXT NOT NULL,
  -- JSON: [{ "percent": 1..100, "soakMinutes": 0.. }], percent ascending.
  stages TEXT NOT NULL,
  max_failures INTEGER NOT NULL CHECK (max_failures >= 1),
  state TEXT NOT NULL CHECK (state IN ('active', 'paused', 'aborted')),
  stage INTEGER NOT NULL DEFAULT 0,
  stage_started_at INTEGER NOT NULL,
  reason TEXT,
  created_by TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX rollouts_state ON rollouts (state, created_at);
CREATE TABLE rollout_nodes (
  rollout_id TEXT NOT NULL REFERENCES rollouts (id),
  node_id TEXT NOT NULL,
  version TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('offered', 'downloading', 'installing', 'restarting', 'healthy', 'rolled-back', 'failed')),
  error TEXT,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (rollout_id, node_id)
);
CREATE INDEX rollout_nodes_by_node ON rollout_nodes (node_id, version, state);
