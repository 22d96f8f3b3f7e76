-- Artifacts (docs/node-software.md): one row per name and version, never changed once written.
-- The bytes live in the data folder, content-addressed: artifacts/sha256/<sha256>.
CREATE TABLE artifacts (
  name TEXT NOT NULL,
  version TEXT NOT NULL,
  sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
  size INTEGER NOT NULL CHECK (size > 0),
  -- The release key's compact JWS over { name, version, sha256, size }.
  signature TEXT NOT NULL,
  uploaded_by TEXT,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (name, version)
);
CREATE INDEX artifacts_newest ON artifacts (name, created_at);
CREATE INDEX artifacts_sha256 ON artifacts (sha256);

-- A WireGuard public key belongs to one node: the hub cannot route to two peers with one key.
-- Keys stored twice before this rule are kept by the node that joined first (the lowest slot);
-- the others are cleared and must join again, when the server refuses the duplicate and says why.
UPDATE node_network SET wireguard_public_key = NULL, joined_at = NULL
WHERE wireguard_public_key IS NOT NULL
  AND overlay_index > (
    SELECT MIN(other.overlay_index) FROM node_network other
    WHERE other.wireguard_public_key = node_network.wireguard_public_key
  );
CREATE UNIQUE INDEX node_network_wireguard_key ON node_network (wireguard_public_key)
  WHERE wireguard_public_key IS NOT NULL;
