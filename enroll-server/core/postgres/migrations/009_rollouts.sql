-- Agent rollouts (as SQLite's 015) (docs/updates.md): a rollout offers one agent release to the fleet in stages;
-- rollout_nodes holds each node's state in it. A node's 'rolled-back' row for a version means that
-- version is never offered to that node again.
CREATE TABLE rollouts (
  id text COLLATE "C" PRIMARY KEY,
  artifact text COLLATE "C" NOT NULL,
  version text COLLATE "C" NOT NULL,
  -- JSON: [{ "percent": 1..100, "soakMinutes": 0.. }], percent ascending.
  stages text COLLATE "C" NOT NULL,
  max_failures integer NOT NULL CHECK (max_failures >= 1),
  state text COLLATE "C" NOT NULL CHECK (state IN ('active', 'paused', 'aborted')),
  stage integer NOT NULL DEFAULT 0,
  stage_started_at bigint NOT NULL,
  reason text COLLATE "C",
  created_by text COLLATE "C",
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL
);
CREATE INDEX rollouts_state ON rollouts (state, created_at);
CREATE TABLE rollout_nodes (
  rollout_id text COLLATE "C" NOT NULL REFERENCES rollouts (id),
  node_id text COLLATE "C" NOT NULL,
  version text COLLATE "C" NOT NULL,
  state text COLLATE "C" NOT NULL CHECK (state IN ('offered', 'downloading', 'installing', 'restarting', 'healthy', 'rolled-back', 'failed')),
  error text COLLATE "C",
  updated_at bigint NOT NULL,
  PRIMARY KEY (rollout_id, node_id)
);
CREATE INDEX rollout_nodes_by_node ON rollout_nodes (node_id, version, state);
