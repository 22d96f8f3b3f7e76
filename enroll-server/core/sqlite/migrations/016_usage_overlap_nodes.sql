-- Nodes whose stored usage reports may overlap: only reports stored before migration 007 can (the
-- usage repository refuses an overlapping one since). Filled once, here, from the reports already
-- stored; nothing adds to it later. A statement runs its overlap check, and reads every report
-- crossing a cut, only for these nodes; for any other node at most one report contains an instant,
-- the latest to start before it (docs/payouts.md "Overlapping reports").
CREATE TABLE usage_overlap_nodes (
  node_id TEXT PRIMARY KEY
);
INSERT INTO usage_overlap_nodes (node_id)
SELECT DISTINCT node_id FROM (
  SELECT node_id, from_at, MAX(to_at) OVER (
    PARTITION BY node_id ORDER BY from_at, seq ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
  ) AS reached
  FROM usage_reports
)
WHERE from_at < reached;
