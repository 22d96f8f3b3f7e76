-- Control-channel hardening: flags de-duplicated, node tokens remembered across restarts, shell
-- recordings with their size.

-- One open flag per (node, kind): repeats raise its count and its last-seen time.
ALTER TABLE node_flags ADD COLUMN count INTEGER NOT NULL DEFAULT 1 CHECK (count >= 1);
ALTER TABLE node_flags ADD COLUMN last_seen_at INTEGER;
UPDATE node_flags SET last_seen_at = created_at;
UPDATE node_flags
SET count = (
    SELECT COUNT(*) FROM node_flags d
    WHERE d.node_id = node_flags.node_id AND d.kind = node_flags.kind AND d.resolved_at IS NULL
  ),
  last_seen_at = (
    SELECT MAX(d.created_at) FROM node_flags d
    WHERE d.node_id = node_flags.node_id AND d.kind = node_flags.kind AND d.resolved_at IS NULL
  )
WHERE resolved_at IS NULL AND node_id IS NOT NULL AND id = (
    SELECT MIN(d.id) FROM node_flags d
    WHERE d.node_id = node_flags.node_id AND d.kind = node_flags.kind AND d.resolved_at IS NULL
  );
DELETE FROM node_flags
WHERE resolved_at IS NULL AND node_id IS NOT NULL AND id <> (
    SELECT MIN(d.id) FROM node_flags d
    WHERE d.node_id = node_flags.node_id AND d.kind = node_flags.kind AND d.resolved_at IS NULL
  );
CREATE UNIQUE INDEX node_flags_open ON node_flags (node_id, kind) WHERE resolved_at IS NULL;
CREATE INDEX node_flags_recent ON node_flags (node_id, last_seen_at);

-- Connection JWTs already used, until they expire (the replay guard).
CREATE TABLE used_node_tokens (
  node_id TEXT NOT NULL,
  jti TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (node_id, jti)
) WITHOUT ROWID;
CREATE INDEX used_node_tokens_expiry ON used_node_tokens (expires_at);

-- Shell recordings are capped: how much each holds and whether it was cut short.
ALTER TABLE shell_sessions ADD COLUMN recorded_bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE shell_sessions ADD COLUMN recording_truncated INTEGER NOT NULL DEFAULT 0;
