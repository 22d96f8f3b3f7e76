-- Owners, API tokens, installation keys, nodes and the audit log.
-- Times are milliseconds since the Unix epoch (UTC). JSON documents are stored as TEXT.

CREATE TABLE owners (
  id TEXT PRIMARY KEY,
  email TEXT NOT NULL UNIQUE COLLATE NOCASE,
  name TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

CREATE TABLE api_tokens (
  id TEXT PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL CHECK (role IN ('admin', 'ops', 'reviewer', 'owner')),
  owner_id TEXT REFERENCES owners (id),
  label TEXT,
  created_at INTEGER NOT NULL,
  created_by TEXT,
  revoked_at INTEGER,
  CHECK ((role = 'owner') = (owner_id IS NOT NULL))
);

CREATE TABLE installation_keys (
  id TEXT PRIMARY KEY,
  key_id TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  owner_id TEXT NOT NULL REFERENCES owners (id),
  label TEXT,
  created_at INTEGER NOT NULL,
  created_by TEXT,
  expires_at INTEGER NOT NULL,
  max_uses INTEGER NOT NULL CHECK (max_uses >= 1),
  uses INTEGER NOT NULL DEFAULT 0 CHECK (uses >= 0 AND uses <= max_uses),
  revoked_at INTEGER
);
CREATE INDEX installation_keys_key_id ON installation_keys (key_id);
CREATE INDEX installation_keys_owner ON installation_keys (owner_id, created_at);

CREATE TABLE nodes (
  id TEXT PRIMARY KEY,
  owner_id TEXT NOT NULL REFERENCES owners (id),
  enrolled_with_key TEXT REFERENCES installation_keys (id),
  status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'active', 'rejected', 'revoked')),
  status_reason TEXT,
  public_key TEXT NOT NULL,
  public_key_thumbprint TEXT NOT NULL UNIQUE,
  fingerprint TEXT NOT NULL,
  hardware TEXT NOT NULL,
  preflight TEXT NOT NULL,
  attributes TEXT NOT NULL,
  labels TEXT NOT NULL,
  agent_version TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  enrolled_at INTEGER NOT NULL,
  approved_at INTEGER,
  approved_by TEXT,
  last_seen_at INTEGER
);
CREATE INDEX nodes_owner ON nodes (owner_id);
CREATE INDEX nodes_fingerprint ON nodes (fingerprint);
CREATE INDEX nodes_status ON nodes (status);

-- Things ops must look at: a fingerprint seen under two owners, two live sessions, and so on.
CREATE TABLE node_flags (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  node_id TEXT REFERENCES nodes (id),
  kind TEXT NOT NULL,
  message TEXT NOT NULL,
  details TEXT,
  created_at INTEGER NOT NULL,
  resolved_at INTEGER
);
CREATE INDEX node_flags_node ON node_flags (node_id);

CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  actor_type TEXT NOT NULL CHECK (actor_type IN ('token', 'key', 'node', 'system')),
  actor_id TEXT,
  actor_role TEXT,
  action TEXT NOT NULL,
  target_type TEXT,
  target_id TEXT,
  details TEXT
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_target ON audit_log (target_type, target_id);
