import type { Db } from '../../core/sqlite/database.js';

export interface StoredUsageReport {
  nodeId: string;
  seq: number;
  fromAt: number;
  toAt: number;
  workloads: { leaseId: string; gpus: number; seconds: number }[];
  receivedAt: number;
}

interface Row {
  node_id: string;
  seq: number;
  from_at: number;
  to_at: number;
  workloads: string;
  received_at: number;
}

export function createUsageRepository(db: Db) {
  const insert = db.prepare(
    `INSERT INTO usage_reports (node_id, seq, from_at, to_at, workloads, jws, received_at, gpu_seconds)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (node_id, seq) DO NOTHING`,
  );
  const forNode = db.prepare<[string], Row>('SELECT * FROM usage_reports WHERE node_id = ? ORDER BY seq');
  const count = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM usage_reports');
  return {
    /** Store a verified report; false when (node, seq) was already stored (a resend). */
    store(report: StoredUsageReport, jws: string): boolean {
      return (
        insert.run(
          report.nodeId,
          report.seq,
          report.fromAt,
          report.toAt,
          JSON.stringify(report.workloads),
          jws,
          report.receivedAt,
          report.workloads.reduce((sum, w) => sum + w.gpus * w.seconds, 0),
        ).changes === 1
      );
    },
    forNode(nodeId: string): StoredUsageReport[] {
      return forNode.all(nodeId).map((r) => ({
        nodeId: r.node_id,
        seq: r.seq,
        fromAt: r.from_at,
        toAt: r.to_at,
        workloads: JSON.parse(r.workloads) as StoredUsageReport['workloads'],
        receivedAt: r.received_at,
      }));
    },
    count(): number {
      return count.get()?.n ?? 0;
    },
  };
}
export type UsageRepository = ReturnType<typeof createUsageRepository>;
