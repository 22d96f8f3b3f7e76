-- Control-channel hardening (as SQLite's 006): flags de-duplicated, node tokens remembered across
-- restarts and shared by every replica, shell recordings with their size.

-- One open flag per (node, kind): repeats raise its count and its last-seen time.
ALTER TABLE node_flags ADD COLUMN count integer NOT NULL DEFAULT 1 CHECK (count >= 1);
ALTER TABLE node_flags ADD COLUMN last_seen_at bigint;
UPDATE node_flags SET last_seen_at = created_at;
WITH open AS (
  SELECT node_id, kind, MIN(id) AS keep, COUNT(*) AS n, MAX(created_at) AS last
  FROM node_flags WHERE resolved_at IS NULL AND node_id IS NOT NULL GROUP BY node_id, kind
)
UPDATE node_flags f SET count = open.n, last_seen_at = open.last FROM open WHERE f.id = open.keep;
DELETE FROM node_flags f
WHERE f.resolved_at IS NULL AND f.node_id IS NOT NULL AND f.id <> (
    SELECT MIN(d.id) FROM node_flags d
    WHERE d.node_id = f.node_id AND d.kind = f.kind AND d.resolved_at IS NULL
  );
CREATE UNIQUE INDEX node_flags_open ON node_flags (node_id, kind) WHERE resolved_at IS NULL;
CREATE INDEX node_flags_recent ON node_flags (node_id, last_seen_at);

-- Connection JWTs already used, until they expire (the replay guard).
CREATE TABLE used_node_tokens (
  node_id text COLLATE "C" NOT NULL,
  jti text COLLATE "C" NOT NULL,
  expires_at bigint NOT NULL,
  PRIMARY KEY (node_id, jti)
);
CREATE INDEX used_node_tokens_expiry ON used_node_tokens (expires_at);

-- Shell recordings are capped: how much each holds and whether it was cut short.
ALTER TABLE shell_sessions ADD COLUMN recorded_bytes bigint NOT NULL DEFAULT 0;
ALTER TABLE shell_sessions ADD COLUMN recording_truncated boolean NOT NULL DEFAULT false;
