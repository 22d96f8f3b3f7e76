-- Nodes whose stored usage reports may overlap (as SQLite's 016): only reports stored before the
-- no-overlap rule can, and those reach PostgreSQL only through migrate-db, which copies SQLite's
-- list with them. Filled once, here, from the reports already stored; nothing adds to it later.
CREATE TABLE usage_overlap_nodes (
  node_id text COLLATE "C" PRIMARY KEY
);
INSERT INTO usage_overlap_nodes (node_id)
SELECT DISTINCT node_id FROM (
  SELECT node_id, from_at, MAX(to_at) OVER (
    PARTITION BY node_id ORDER BY from_at, seq ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
  ) AS reached
  FROM usage_reports
) w
WHERE from_at < reached;
