/**
 * What a statement reads, for many nodes per round trip: a week's statement for 10,000 nodes is a
 * few dozen statements, not a few per node (docs/capacity.md "Payouts on PostgreSQL"). Each read
 * takes arrays of node ids (or of per-node queries, numbered with `WITH ORDINALITY`) and answers
 * for all of them; the one-node methods of the repository are the same reads with one id.
 */
import type { HardwareFacts } from '../../../protocol/hardware.js';
import { MAX_USAGE_WINDOW_MS } from '../../../protocol/control.js';
import type { Sql } from '../../core/postgres/engine.js';
import type { PayoutRepository, PresenceSpanRecord, UsageAsk } from '../payout-repository.js';
import type { AuditHistory } from '../verified-time.js';
import type { UsageAnswers, UsageReportDetail } from '../workload.js';

type Workloads = { gpus: number; seconds: number }[];
type ReportRow = { i: number; seq: number; from_at: number; to_at: number; workloads: string };

const grouped = <T>(ids: readonly string[]): Map<string, T[]> => new Map(ids.map((id) => [id, []]));

export function postgresStatementReads(
  sql: Sql,
): Pick<PayoutRepository, 'presenceOf' | 'hardwareHistoryOf' | 'auditHistoryOf' | 'usageOf'> {
  return {
    presenceOf: async (nodeIds, from) => {
      const out = grouped<PresenceSpanRecord>(nodeIds);
      const rows = await sql.rows<{
        node_id: string;
        started_at: number;
        last_seen_at: number;
        ended_at: number | null;
      }>(
        `SELECT node_id, started_at, last_seen_at, ended_at FROM presence_intervals
         WHERE node_id = ANY($1::text[]) AND COALESCE(ended_at, last_seen_at) >= $2
         ORDER BY node_id, started_at, id`,
        [nodeIds, from],
      );
      for (const r of rows)
        out
          .get(r.node_id)
          ?.push({ startedAt: r.started_at, lastSeenAt: r.last_seen_at, endedAt: r.ended_at });
      return out;
    },

    hardwareHistoryOf: async (nodeIds) => {
      const out = grouped<{ at: number; hardware: HardwareFacts }>(nodeIds);
      const rows = await sql.rows<{ node_id: string; at: number; hardware: string }>(
        `SELECT node_id, at, hardware FROM node_hardware_history WHERE node_id = ANY($1::text[])
         ORDER BY node_id, at, id`,
        [nodeIds],
      );
      for (const r of rows)
        out.get(r.node_id)?.push({ at: r.at, hardware: JSON.parse(r.hardware) as HardwareFacts });
      return out;
    },

    // One statement, so that the intervals and each node's first start come from one snapshot.
    auditHistoryOf: async (nodeIds, from, asOf) => {
      const out = new Map<string, AuditHistory>();
      const rows = await sql.rows<{
        node_id: string;
        started_at: number | null;
        ended_at: number | null;
        verified_until: number | null;
        first: number | null;
      }>(
        `SELECT n.node_id, i.started_at, i.ended_at, i.verified_until, f.first
         FROM unnest($1::text[]) AS n(node_id)
         CROSS JOIN LATERAL (
           SELECT MIN(started_at) AS first FROM audit_state_intervals
           WHERE node_id = n.node_id AND started_at <= $3) f
         LEFT JOIN LATERAL (
           SELECT started_at, ended_at, verified_until, id FROM audit_state_intervals
           WHERE node_id = n.node_id AND started_at <= $3 AND (ended_at IS NULL OR ended_at >= $2)
         ) i ON true
         ORDER BY n.node_id, i.started_at, i.id`,
        [nodeIds, from, asOf],
      );
      for (const id of nodeIds) out.set(id, { intervals: [], firstStartedAt: null });
      for (const r of rows) {
        const history = { intervals: [...(out.get(r.node_id)?.intervals ?? [])], firstStartedAt: r.first };
        if (r.started_at !== null && r.verified_until !== null)
          history.intervals.push({
            startedAt: r.started_at,
            endedAt: r.ended_at,
            verifiedUntil: r.verified_until,
          });
        out.set(r.node_id, history);
      }
      return out;
    },

    usageOf: async (asks, asOf) => {
      // First, per ask: has the node any report the answers could hold (one index probe), and may
      // its reports overlap (stored before the rule: usage_overlap_nodes, migration 010)? A node
      // without reports gets empty answers without its sums and cuts being asked one by one; only
      // a node that may overlap needs the overlap check and every report crossing a cut.
      const flags = await sql.rows<{ i: number; may_overlap: boolean }>(
        `SELECT q.i::integer AS i, EXISTS (SELECT 1 FROM usage_overlap_nodes o WHERE o.node_id = q.node) AS may_overlap
         FROM unnest($1::text[], $2::bigint[], $3::bigint[]) WITH ORDINALITY AS q(node, s, e, i)
         WHERE EXISTS (
           SELECT 1 FROM usage_reports u
           WHERE u.node_id = q.node AND u.from_at > q.s - 2 * $5::bigint AND u.from_at < q.e
             AND u.received_at <= $4)`,
        [
          asks.map((a) => a.nodeId),
          asks.map((a) => a.queries.start),
          asks.map((a) => a.queries.end),
          asOf,
          MAX_USAGE_WINDOW_MS,
        ],
      );
      const withReports = flags.map((f) => f.i - 1);
      const reporting = withReports.flatMap((i) => asks[i] ?? []);
      const mayOverlap = new Set(flags.flatMap((f) => (f.may_overlap ? (asks[f.i - 1]?.nodeId ?? []) : [])));
      const legacy = reporting.filter((a) => mayOverlap.has(a.nodeId));
      const [sums, crossings, overlapped] = await Promise.all([
        usageSums(sql, reporting, asOf),
        usageCrossings(sql, reporting, asOf, mayOverlap),
        overlappedReports(sql, legacy, asOf),
      ]);
      const overlappedOf = new Map(legacy.map((ask, k) => [ask, overlapped[k] ?? []]));
      const answers = asks.map((a): UsageAnswers => ({
        sums: a.queries.sums.map(() => 0),
        crossings: a.queries.cuts.map(() => []),
        overlapped: [],
      }));
      reporting.forEach((ask, k) => {
        const i = withReports[k] ?? -1;
        answers[i] = {
          sums: sums[k] ?? [],
          crossings: crossings[k] ?? [],
          overlapped: overlappedOf.get(ask) ?? [],
        };
      });
      return answers;
    },
  };
}

/** Every ask's sums, in the order of its queries: one row per query, numbered across all asks. */
async function usageSums(sql: Sql, asks: readonly UsageAsk[], asOf: number): Promise<number[][]> {
  const flat = asks.flatMap((a) => a.queries.sums.map((s) => ({ nodeId: a.nodeId, ...s })));
  if (!flat.length) return asks.map(() => []);
  const rows = await sql.rows<{ seconds: string | number }>(
    // One index range scan per piece, whatever the table's statistics say (LATERAL; OFFSET 0 keeps
    // it from being flattened into a join that sorts the whole table).
    `SELECT COALESCE(s.seconds, 0)::bigint AS seconds
     FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[]) WITH ORDINALITY AS q(node, f, t, gpus, i)
     CROSS JOIN LATERAL (
       SELECT SUM(LEAST(u.gpu_seconds, ((u.to_at - u.from_at) / 1000) * q.gpus)) AS seconds
       FROM usage_reports u
       WHERE u.node_id = q.node AND u.from_at >= q.f AND u.from_at < q.t AND u.to_at <= q.t
         AND u.received_at <= $5
       OFFSET 0) s
     ORDER BY q.i`,
    [
      flat.map((s) => s.nodeId),
      flat.map((s) => s.from),
      flat.map((s) => s.to),
      flat.map((s) => s.gpus),
      asOf,
    ],
  );
  const seconds = rows.map((r) => Number(r.seconds));
  let at = 0;
  return asks.map((a) => {
    const mine = seconds.slice(at, at + a.queries.sums.length);
    at += a.queries.sums.length;
    return mine;
  });
}

/**
 * The reports crossing each cut of each ask (a report that starts before the cut and ends after
 * it). A node whose reports never overlap has at most one: the latest to start before the cut,
 * read alone (one index entry per cut instead of an hour of them); a node in `mayOverlap` has all
 * of them read.
 */
async function usageCrossings(
  sql: Sql,
  asks: readonly UsageAsk[],
  asOf: number,
  mayOverlap: ReadonlySet<string>,
): Promise<UsageReportDetail[][][]> {
  const out = asks.map((a) => a.queries.cuts.map((): UsageReportDetail[] => []));
  const flat = asks.flatMap((a, ask) =>
    a.queries.cuts.map((at, cut) => ({ nodeId: a.nodeId, at, ask, cut, all: mayOverlap.has(a.nodeId) })),
  );
  if (!flat.length) return out;
  const read = async (cuts: typeof flat, query: string) => {
    if (!cuts.length) return;
    const rows = await sql.rows<ReportRow>(query, [
      cuts.map((c) => c.nodeId),
      cuts.map((c) => c.at),
      asOf,
      MAX_USAGE_WINDOW_MS,
    ]);
    for (const r of rows) {
      const c = cuts[r.i - 1];
      if (!c) continue;
      out[c.ask]?.[c.cut]?.push({
        seq: r.seq,
        from: r.from_at,
        to: r.to_at,
        workloads: JSON.parse(r.workloads) as Workloads,
      });
    }
  };
  await read(
    flat.filter((c) => c.all),
    `SELECT q.i::integer AS i, u.seq, u.from_at, u.to_at, u.workloads
     FROM unnest($1::text[], $2::bigint[]) WITH ORDINALITY AS q(node, at, i)
     CROSS JOIN LATERAL (
       SELECT seq, from_at, to_at, workloads FROM usage_reports
       WHERE node_id = q.node AND from_at < q.at AND from_at > q.at - $4::bigint
         AND to_at > q.at AND received_at <= $3
       OFFSET 0) u
     ORDER BY q.i, u.from_at, u.seq`,
  );
  await read(
    flat.filter((c) => !c.all),
    `SELECT q.i::integer AS i, u.seq, u.from_at, u.to_at, u.workloads
     FROM unnest($1::text[], $2::bigint[]) WITH ORDINALITY AS q(node, at, i)
     CROSS JOIN LATERAL (
       SELECT seq, from_at, to_at FROM usage_reports
       WHERE node_id = q.node AND from_at < q.at AND from_at > q.at - $4::bigint
         AND to_at > from_at AND received_at <= $3
       ORDER BY from_at DESC, seq DESC LIMIT 1) l
     CROSS JOIN LATERAL (
       SELECT seq, from_at, to_at, workloads FROM usage_reports
       WHERE node_id = q.node AND seq = l.seq AND l.to_at > q.at
       OFFSET 0) u
     ORDER BY q.i`,
  );
  return out;
}

/**
 * Reports that a window starting earlier (or at the same ms with a lower seq) overlaps, per ask;
 * none while the usage repository keeps its rule (as the SQLite statement reads them), so it is
 * asked only for nodes in usage_overlap_nodes.
 */
async function overlappedReports(
  sql: Sql,
  asks: readonly UsageAsk[],
  asOf: number,
): Promise<UsageAnswers['overlapped'][]> {
  const out: UsageAnswers['overlapped'][number][][] = asks.map(() => []);
  if (!asks.length) return out;
  const rows = await sql.rows<ReportRow & { paid_from: number }>(
    // Per node (LATERAL, OFFSET 0 keeps it from being flattened), its reports in the order of the
    // (node_id, from_at, seq) index: the running maximum needs no sort of the whole batch.
    `SELECT q.i::integer AS i, r.seq, r.from_at, r.to_at, r.workloads, o.paid_from
     FROM unnest($1::text[], $2::bigint[], $3::bigint[]) WITH ORDINALITY AS q(node, s, e, i)
     CROSS JOIN LATERAL (
       SELECT w.seq, w.from_at, w.paid_from FROM (
         SELECT seq, from_at, to_at, MAX(to_at) OVER (
           ORDER BY from_at, seq ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS paid_from
         FROM usage_reports
         WHERE node_id = q.node AND from_at > q.s - 2 * $5::bigint AND from_at < q.e AND received_at <= $4
       ) w
       WHERE w.from_at < w.paid_from AND w.to_at > q.s
       OFFSET 0) o
     JOIN usage_reports r ON r.node_id = q.node AND r.seq = o.seq
     ORDER BY q.i, o.from_at, o.seq`,
    [
      asks.map((a) => a.nodeId),
      asks.map((a) => a.queries.start),
      asks.map((a) => a.queries.end),
      asOf,
      MAX_USAGE_WINDOW_MS,
    ],
  );
  for (const r of rows)
    out[r.i - 1]?.push({
      seq: r.seq,
      from: r.from_at,
      to: r.to_at,
      workloads: JSON.parse(r.workloads) as Workloads,
      paidFrom: Math.min(r.paid_from, r.to_at),
    });
  return out;
}
