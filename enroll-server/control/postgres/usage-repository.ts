import { MAX_USAGE_WINDOW_MS } from '../../../protocol/control.js';
import type { Sql } from '../../core/postgres/engine.js';
import type { StoredUsageReport, UsageRepository, UsageStoreOutcome } from '../usage-repository.js';

type Row = {
  node_id: string;
  seq: number;
  from_at: number;
  to_at: number;
  workloads: string;
  received_at: number;
};

type OutcomeRow = {
  outcome: UsageStoreOutcome['outcome'];
  clash_seq: number | null;
  clash_from: number | null;
  clash_to: number | null;
};

export function postgresUsageRepository(sql: Sql): UsageRepository {
  return {
    // The check and the insert are one statement (store_usage_report, migration 004).
    store: async (report, jws) => {
      const row = await sql.row<OutcomeRow>(
        'SELECT outcome, clash_seq, clash_from, clash_to FROM store_usage_report($1, $2, $3, $4, $5, $6, $7, $8, $9)',
        [
          report.nodeId,
          report.seq,
          report.fromAt,
          report.toAt,
          JSON.stringify(report.workloads),
          jws,
          report.receivedAt,
          report.workloads.reduce((sum, w) => sum + w.gpus * w.seconds, 0),
          MAX_USAGE_WINDOW_MS,
        ],
      );
      if (
        row?.outcome === 'overlap' &&
        row.clash_seq !== null &&
        row.clash_from !== null &&
        row.clash_to !== null
      )
        return { outcome: 'overlap', seq: row.clash_seq, fromAt: row.clash_from, toAt: row.clash_to };
      if (row?.outcome === 'duplicate') return { outcome: 'duplicate' };
      if (row?.outcome === 'stored') return { outcome: 'stored' };
      throw new Error(`store_usage_report answered ${JSON.stringify(row)}`);
    },
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
