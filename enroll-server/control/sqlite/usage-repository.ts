import type { Db } from '../../core/sqlite/database.js';
import type { Run } from '../../core/sqlite/engine.js';
import type { StoredUsageReport, UsageRepository } from '../usage-repository.js';

interface Row {
  node_id: string;
  seq: number;
  from_at: number;
  to_at: number;
  workloads: string;
  received_at: number;
}

export function sqliteUsageRepository(db: Db): (run: Run) => UsageRepository {
  const insert = db.prepare(
    `INSERT INTO usage_reports (node_id, seq, from_at, to_at, workloads, jws, received_at, gpu_seconds)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (node_id, seq) DO NOTHING`,
  );
  const forNode = db.prepare<[string], Row>('SELECT * FROM usage_reports WHERE node_id = ? ORDER BY seq');
  return (run) => ({
    store(report, jws) {
      return run(
        () =>
          insert.run(
            report.nodeId,
            report.seq,
            report.fromAt,
            report.toAt,
            JSON.stringify(report.workloads),
            jws,
            report.receivedAt,
            report.workloads.reduce((sum, w) => sum + w.gpus * w.seconds, 0),
          ).changes === 1,
      );
    },
    forNode(nodeId) {
      return run(() =>
        forNode.all(nodeId).map((r): StoredUsageReport => ({
          nodeId: r.node_id,
          seq: r.seq,
          fromAt: r.from_at,
          toAt: r.to_at,
          workloads: JSON.parse(r.workloads) as StoredUsageReport['workloads'],
          receivedAt: r.received_at,
        })),
      );
    },
  });
}
