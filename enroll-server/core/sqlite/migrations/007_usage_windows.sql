-- A node's usage reports never overlap in time (DESIGN.md "Uptime and workload accounting").
-- The usage repository refuses an overlapping report in the same transaction as the insert, by a
-- short range scan of this index (no window is longer than an hour); statements read a node's
-- reports in (from_at, seq) order from it to find any overlap stored before this rule existed, and
-- it still covers the sums statements take. It replaces both older usage indexes.
CREATE INDEX usage_reports_node_window ON usage_reports (node_id, from_at, seq, to_at, received_at, gpu_seconds);
DROP INDEX usage_reports_node_time;
DROP INDEX usage_reports_time;
