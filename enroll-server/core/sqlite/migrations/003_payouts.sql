-- Accounting and payouts: rate cards, periods, statements, adjustments, outages, the server's own
-- liveness record and each node's hardware over time. Money is integer micro-USD stored as TEXT.

CREATE TABLE rate_cards (
  version INTEGER PRIMARY KEY AUTOINCREMENT,
  effective_from INTEGER NOT NULL,
  rates TEXT NOT NULL,
  note TEXT,
  created_at INTEGER NOT NULL,
  created_by TEXT
);

CREATE TABLE payout_periods (
  id TEXT PRIMARY KEY,
  start_at INTEGER NOT NULL,
  end_at INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('open', 'computed', 'locked')),
  rate_card_version INTEGER REFERENCES rate_cards (version),
  statement TEXT,
  hash TEXT,
  created_at INTEGER NOT NULL,
  computed_at INTEGER,
  locked_at INTEGER,
  locked_by TEXT,
  CHECK (end_at > start_at)
);
CREATE INDEX payout_periods_start ON payout_periods (start_at);

CREATE TABLE adjustments (
  id TEXT PRIMARY KEY,
  node_id TEXT NOT NULL REFERENCES nodes (id),
  owner_id TEXT NOT NULL REFERENCES owners (id),
  amount_uusd TEXT NOT NULL,
  reason TEXT NOT NULL,
  actor TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  period_id TEXT REFERENCES payout_periods (id)
);
CREATE INDEX adjustments_period ON adjustments (period_id);

CREATE TABLE outages (
  id TEXT PRIMARY KEY,
  start_at INTEGER NOT NULL,
  end_at INTEGER NOT NULL,
  reason TEXT NOT NULL,
  created_by TEXT,
  created_at INTEGER NOT NULL,
  CHECK (end_at > start_at)
);

-- One row per server process: a gap between one run's last sign of life and the next run's start
-- is a detected platform outage.
CREATE TABLE server_runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  started_at INTEGER NOT NULL,
  last_alive_at INTEGER NOT NULL
);

CREATE TABLE node_hardware_history (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  node_id TEXT NOT NULL REFERENCES nodes (id),
  at INTEGER NOT NULL,
  hardware TEXT NOT NULL
);
CREATE INDEX node_hardware_history_node ON node_hardware_history (node_id, at);
INSERT INTO node_hardware_history (node_id, at, hardware) SELECT id, enrolled_at, hardware FROM nodes;

-- GPU-seconds of each usage report (sum of gpus × seconds over its workloads), so that statements
-- need not parse every report; and the index statements read reports by.
ALTER TABLE usage_reports ADD COLUMN gpu_seconds INTEGER NOT NULL DEFAULT 0;
UPDATE usage_reports SET gpu_seconds = (
  SELECT COALESCE(SUM(json_extract(value, '$.gpus') * json_extract(value, '$.seconds')), 0) FROM json_each(workloads)
);
-- Covering: statements sum reports per node and time range without reading the rows themselves.
CREATE INDEX usage_reports_node_time ON usage_reports (node_id, from_at, to_at, received_at, gpu_seconds);
