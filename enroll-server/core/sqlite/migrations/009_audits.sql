-- Continuous audits: every audit with its checks, each node's audit state and schedule, and the
-- history of audit states as intervals (what payouts read to pay only verified time).

CREATE TABLE audits (
  id TEXT PRIMARY KEY,
  node_id TEXT NOT NULL REFERENCES nodes (id),
  trigger TEXT NOT NULL CHECK (trigger IN ('join', 'schedule', 'retry', 'hardware', 'ops', 'owner')),
  status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'passed', 'failed', 'error')),
  -- Lower runs first when the fleet-wide cap leaves few slots.
  priority INTEGER NOT NULL,
  requested_at INTEGER NOT NULL,
  requested_by TEXT,
  -- A queued audit is not started before this (a node that answered "busy").
  not_before INTEGER NOT NULL,
  started_at INTEGER,
  deadline_at INTEGER,
  finished_at INTEGER,
  -- JSON arrays of the checks and skipped checks of the signed report, as verified.
  checks TEXT,
  skipped TEXT,
  agent_version TEXT,
  error TEXT,
  -- The collect-diagnostics command run after a failure.
  diagnostics_id TEXT REFERENCES node_commands (id),
  CHECK (status <> 'running' OR (started_at IS NOT NULL AND deadline_at IS NOT NULL AND finished_at IS NULL)),
  CHECK (status NOT IN ('passed', 'failed', 'error') OR finished_at IS NOT NULL)
);
CREATE INDEX audits_node ON audits (node_id, requested_at);
CREATE INDEX audits_queue ON audits (priority, requested_at) WHERE status = 'queued';
CREATE INDEX audits_running ON audits (deadline_at) WHERE status = 'running';
-- At most one audit waiting and one running per node.
CREATE UNIQUE INDEX audits_one_queued ON audits (node_id) WHERE status = 'queued';
CREATE UNIQUE INDEX audits_one_running ON audits (node_id) WHERE status = 'running';

-- Each approved node's audit state and what is planned for it.
CREATE TABLE node_audit_state (
  node_id TEXT PRIMARY KEY REFERENCES nodes (id),
  state TEXT NOT NULL CHECK (state IN ('never', 'passing', 'failing')),
  state_since INTEGER NOT NULL,
  last_audit_id TEXT REFERENCES audits (id),
  last_passed_at INTEGER,
  -- Failed or unanswered audits in a row (the retry ladder's step).
  failures INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0),
  -- When the next audit is due (NULL while one is queued or running).
  next_audit_at INTEGER,
  next_trigger TEXT CHECK (next_trigger IN ('join', 'schedule', 'retry', 'hardware', 'ops', 'owner')),
  owner_requested_at INTEGER,
  updated_at INTEGER NOT NULL
);
CREATE INDEX node_audit_state_due ON node_audit_state (next_audit_at) WHERE next_audit_at IS NOT NULL;
CREATE INDEX node_audit_state_state ON node_audit_state (state);

-- The audit state history. A row starts with a state (a new row for every pass, so that each pass
-- keeps the node verified for its own two intervals) and ends when the next one starts; the node
-- is verified from started_at until verified_until or ended_at, whichever is first. Rows are
-- only ever added and ended, never changed afterwards: a statement can be computed again for
-- any past period from what was known at its lock.
CREATE TABLE audit_state_intervals (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  node_id TEXT NOT NULL REFERENCES nodes (id),
  state TEXT NOT NULL CHECK (state IN ('never', 'passing', 'failing')),
  started_at INTEGER NOT NULL,
  ended_at INTEGER,
  verified_until INTEGER NOT NULL,
  audit_id TEXT REFERENCES audits (id),
  CHECK (ended_at IS NULL OR ended_at >= started_at),
  CHECK (verified_until >= started_at)
);
CREATE INDEX audit_state_intervals_node ON audit_state_intervals (node_id, started_at);
CREATE UNIQUE INDEX audit_state_intervals_open ON audit_state_intervals (node_id) WHERE ended_at IS NULL;
