-- A node's usage reports never overlap in time (as SQLite's 007; DESIGN.md "Uptime and workload
-- accounting"). The index serves the overlap check (a short range scan: no window is longer than
-- an hour), the statements' reads in (from_at, seq) order and their sums.
CREATE INDEX usage_reports_node_window ON usage_reports (node_id, from_at, seq) INCLUDE (to_at, received_at, gpu_seconds);
DROP INDEX usage_reports_node_time;
DROP INDEX usage_reports_time;

-- Check and insert as one statement. Replicas store reports of one node at the same time, on
-- their own connections: the node's advisory lock (held to the end of the caller's transaction)
-- makes them take turns, and each statement in here reads a fresh snapshot under READ COMMITTED,
-- so the second sees the first's row. Inside a SERIALIZABLE transaction the predicate locks of the
-- range read refuse the later of two overlapping inserts (40001), and the engine runs it again.
CREATE FUNCTION store_usage_report(
  p_node_id text, p_seq bigint, p_from bigint, p_to bigint, p_workloads text, p_jws text,
  p_received_at bigint, p_gpu_seconds bigint, p_max_window bigint
) RETURNS TABLE (outcome text, clash_seq bigint, clash_from bigint, clash_to bigint)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  clash record;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended('usage_reports:' || p_node_id, 0));
  IF EXISTS (SELECT 1 FROM usage_reports u WHERE u.node_id = p_node_id AND u.seq = p_seq) THEN
    RETURN QUERY SELECT 'duplicate'::text, NULL::bigint, NULL::bigint, NULL::bigint;
    RETURN;
  END IF;
  -- A stored window [f, t) overlaps [from, to) when f < to and t > from.
  SELECT u.seq, u.from_at, u.to_at INTO clash FROM usage_reports u
  WHERE u.node_id = p_node_id AND u.from_at < p_to AND u.from_at > p_from - p_max_window AND u.to_at > p_from
  ORDER BY u.from_at, u.seq LIMIT 1;
  IF FOUND THEN
    RETURN QUERY SELECT 'overlap'::text, clash.seq, clash.from_at, clash.to_at;
    RETURN;
  END IF;
  INSERT INTO usage_reports (node_id, seq, from_at, to_at, workloads, jws, received_at, gpu_seconds)
  VALUES (p_node_id, p_seq, p_from, p_to, p_workloads, p_jws, p_received_at, p_gpu_seconds);
  RETURN QUERY SELECT 'stored'::text, NULL::bigint, NULL::bigint, NULL::bigint;
END
$$;
