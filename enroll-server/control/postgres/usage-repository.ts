import type { Sql } from '../../core/postgres/engine.js';
import type { StoredUsageReport, UsageRepository } from '../usage-repository.js';

type Row = {
  node_id: string;
  seq: number;
  from_at: number;
  to_at: number;
  workloads: string;
  received_at: number;
};

export function postgresUsageRepository(sql: Sql): UsageRepository {
  return {
    store: async (report, jws) =>
      (await sql.run(
        `INSERT INTO usage_reports (node_id, seq, from_at, to_at, workloads, jws, received_at, gpu_seconds)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (node_id, seq) DO NOTHING`,
        [
          report.nodeId,
          report.seq,
          report.fromAt,
          report.toAt,
          JSON.stringify(report.workloads),
          jws,
          report.receivedAt,
          report.workloads.reduce((sum, w) => sum + w.gpus * w.seconds, 0),
        ],
      )) === 1,
    forNode: async (nodeId) =>
      (
        await sql.rows<Row>(
          'SELECT node_id, seq, from_at, to_at, workloads, received_at FROM usage_reports WHERE node_id = $1 ORDER BY seq',
          [nodeId],
        )
      ).map((r): StoredUsageReport => ({
        nodeId: r.node_id,
        seq: r.seq,
        fromAt: r.from_at,
        toAt: r.to_at,
        workloads: JSON.parse(r.workloads) as StoredUsageReport['workloads'],
        receivedAt: r.received_at,
      })),
  };
}
