import { MAX_USAGE_WINDOW_MS } from '../../../protocol/control.js';
import type { Db } from '../../core/sqlite/database.js';
import type { Run } from '../../core/sqlite/engine.js';
import type { StoredUsageReport, UsageRepository, UsageStoreOutcome } from '../usage-repository.js';

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
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const stored = db.prepare<[string, number], { seq: number }>(
    'SELECT seq FROM usage_reports WHERE node_id = ? AND seq = ?',
  );
  // A stored window [f, t) overlaps [from, to) when f < to and t > from. No window is longer than
  // MAX_USAGE_WINDOW_MS, so f > from − that bound: a short range of usage_reports_node_window.
  const overlapping = db.prepare<
    { nodeId: string; from: number; to: number; maxWindow: number },
    { seq: number; from_at: number; to_at: number }
  >(
    `SELECT seq, from_at, to_at FROM usage_reports
     WHERE node_id = @nodeId AND from_at < @to AND from_at > @from - @maxWindow AND to_at > @from
     ORDER BY from_at LIMIT 1`,
  );
  const forNode = db.prepare<[string], Row>('SELECT * FROM usage_reports WHERE node_id = ? ORDER BY seq');

  // Check and insert in one transaction (a savepoint when the caller already holds one).
  const store = db.transaction((report: StoredUsageReport, jws: string): UsageStoreOutcome => {
    if (stored.get(report.nodeId, report.seq)) return { outcome: 'duplicate' };
    const clash = overlapping.get({
      nodeId: report.nodeId,
      from: report.fromAt,
      to: report.toAt,
      maxWindow: MAX_USAGE_WINDOW_MS,
    });
    if (clash) return { outcome: 'overlap', seq: clash.seq, fromAt: clash.from_at, toAt: clash.to_at };
    insert.run(
      report.nodeId,
      report.seq,
      report.fromAt,
      report.toAt,
      JSON.stringify(report.workloads),
      jws,
      report.receivedAt,
      report.workloads.reduce((sum, w) => sum + w.gpus * w.seconds, 0),
    );
    return { outcome: 'stored' };
  });

  return (run) => ({
    store(report, jws) {
      return run(() => store.immediate(report, jws));
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
