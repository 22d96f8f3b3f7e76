import type { AuditCheck, AuditSkip } from '../../../protocol/audit.js';
import type { HardwareFacts } from '../../../protocol/hardware.js';
import type { Sql } from '../../core/postgres/engine.js';
import type {
  AuditRecord,
  AuditRepository,
  AuditStateInterval,
  NodeAuditState,
} from '../audit-repository.js';
import type { AuditStatus, AuditTrigger, StoredAuditState } from '../audit-rules.js';

type AuditRow = {
  id: string;
  node_id: string;
  trigger: AuditTrigger;
  status: AuditStatus;
  priority: number;
  requested_at: number;
  requested_by: string | null;
  not_before: number;
  started_at: number | null;
  deadline_at: number | null;
  finished_at: number | null;
  checks: string | null;
  skipped: string | null;
  agent_version: string | null;
  error: string | null;
  diagnostics_id: string | null;
};

type StateRow = {
  node_id: string;
  state: StoredAuditState;
  state_since: number;
  last_audit_id: string | null;
  last_passed_at: number | null;
  failures: number;
  next_audit_at: number | null;
  next_trigger: AuditTrigger | null;
  owner_requested_at: number | null;
  updated_at: number;
};

type IntervalRow = {
  node_id: string;
  state: StoredAuditState;
  started_at: number;
  ended_at: number | null;
  verified_until: number;
  audit_id: string | null;
};

// The JSON columns hold checks this server verified against the protocol's schema before storing.
const json = <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text) as T));

const toAudit = (r: AuditRow): AuditRecord => ({
  id: r.id,
  nodeId: r.node_id,
  trigger: r.trigger,
  status: r.status,
  priority: r.priority,
  requestedAt: r.requested_at,
  requestedBy: r.requested_by,
  notBefore: r.not_before,
  startedAt: r.started_at,
  deadlineAt: r.deadline_at,
  finishedAt: r.finished_at,
  checks: json<AuditCheck[]>(r.checks),
  skipped: json<AuditSkip[]>(r.skipped),
  agentVersion: r.agent_version,
  error: r.error,
  diagnosticsId: r.diagnostics_id,
});

const toState = (r: StateRow): NodeAuditState => ({
  nodeId: r.node_id,
  state: r.state,
  stateSince: r.state_since,
  lastAuditId: r.last_audit_id,
  lastPassedAt: r.last_passed_at,
  failures: r.failures,
  nextAuditAt: r.next_audit_at,
  nextTrigger: r.next_trigger,
  ownerRequestedAt: r.owner_requested_at,
  updatedAt: r.updated_at,
});

const toInterval = (r: IntervalRow): AuditStateInterval => ({
  nodeId: r.node_id,
  state: r.state,
  startedAt: r.started_at,
  endedAt: r.ended_at,
  verifiedUntil: r.verified_until,
  auditId: r.audit_id,
});

const LIVE = "n.status IN ('approved', 'active')";

const AUDIT =
  'id, node_id, trigger, status, priority, requested_at, requested_by, not_before, started_at, deadline_at, finished_at, checks, skipped, agent_version, error, diagnostics_id';

export function postgresAuditRepository(sql: Sql): AuditRepository {
  return {
    state: async (nodeId) => {
      const row = await sql.row<StateRow>('SELECT * FROM node_audit_state WHERE node_id = $1', [nodeId]);
      return row && toState(row);
    },
    states: async (nodeIds) =>
      nodeIds.length
        ? (
            await sql.rows<StateRow>(
              'SELECT * FROM node_audit_state WHERE node_id = ANY($1::text[]) ORDER BY node_id',
              [[...nodeIds]],
            )
          ).map(toState)
        : [],
    saveState: async (s) => {
      await sql.run(
        `INSERT INTO node_audit_state (node_id, state, state_since, last_audit_id, last_passed_at, failures,
           next_audit_at, next_trigger, owner_requested_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (node_id) DO UPDATE SET state = excluded.state, state_since = excluded.state_since,
           last_audit_id = excluded.last_audit_id, last_passed_at = excluded.last_passed_at,
           failures = excluded.failures, next_audit_at = excluded.next_audit_at,
           next_trigger = excluded.next_trigger, owner_requested_at = excluded.owner_requested_at,
           updated_at = excluded.updated_at`,
        [
          s.nodeId,
          s.state,
          s.stateSince,
          s.lastAuditId,
          s.lastPassedAt,
          s.failures,
          s.nextAuditAt,
          s.nextTrigger,
          s.ownerRequestedAt,
          s.updatedAt,
        ],
      );
    },
    nodesWithoutState: async (limit) =>
      (
        await sql.rows<{ id: string }>(
          `SELECT n.id FROM nodes n WHERE ${LIVE}
             AND NOT EXISTS (SELECT 1 FROM node_audit_state s WHERE s.node_id = n.id)
           ORDER BY n.approved_at, n.id LIMIT $1`,
          [limit],
        )
      ).map((r) => r.id),
    nodeIdsInState: async (states, passed) => {
      const where = ['s.state = ANY($1::text[])'];
      const values: unknown[] = [[...states]];
      if (passed?.before !== undefined) {
        values.push(passed.before);
        where.push(`(s.last_passed_at IS NULL OR s.last_passed_at <= $${values.length})`);
      }
      if (passed?.since !== undefined) {
        values.push(passed.since);
        where.push(`s.last_passed_at > $${values.length}`);
      }
      return (
        await sql.rows<{ node_id: string }>(
          `SELECT s.node_id FROM node_audit_state s WHERE ${where.join(' AND ')} ORDER BY s.node_id`,
          values,
        )
      ).map((r) => r.node_id);
    },
    // One statement: the counts of the rows and of the live nodes come from one snapshot.
    stateCounts: async (staleBefore) => {
      const result = { never: 0, passing: 0, failing: 0, stale: 0 };
      const rows = await sql.rows<{ state: string; n: number }>(
        `SELECT CASE WHEN s.state = 'passing' AND (s.last_passed_at IS NULL OR s.last_passed_at <= $1)
                  THEN 'stale' ELSE s.state END AS state, COUNT(*) AS n
         FROM node_audit_state s JOIN nodes n ON n.id = s.node_id WHERE ${LIVE} GROUP BY 1
         UNION ALL SELECT 'live', COUNT(*) FROM nodes n WHERE ${LIVE}`,
        [staleBefore],
      );
      let known = 0;
      let live = 0;
      for (const r of rows) {
        if (r.state === 'live') live = r.n;
        else {
          if (r.state === 'never' || r.state === 'passing' || r.state === 'failing' || r.state === 'stale')
            result[r.state] += r.n;
          known += r.n;
        }
      }
      // Approved nodes without a row yet have never been audited.
      result.never += Math.max(0, live - known);
      return result;
    },
    // One statement: the open interval ends where the new one starts (the update runs first: the
    // insert reads its count).
    startInterval: async (i) => {
      await sql.run(
        `WITH ended AS (
           UPDATE audit_state_intervals SET ended_at = GREATEST(started_at, $3)
           WHERE node_id = $1 AND ended_at IS NULL RETURNING id)
         INSERT INTO audit_state_intervals (node_id, state, started_at, verified_until, audit_id)
         SELECT $1, $2, $3, $4, $5 FROM (SELECT COUNT(*) FROM ended) e`,
        [i.nodeId, i.state, i.startedAt, i.verifiedUntil, i.auditId],
      );
    },
    intervals: async (nodeId, from, asOf) =>
      (
        await sql.rows<IntervalRow>(
          `SELECT * FROM audit_state_intervals
           WHERE node_id = $1 AND (ended_at IS NULL OR ended_at >= $2) AND started_at <= $3
           ORDER BY started_at, id`,
          [nodeId, from, asOf],
        )
      ).map(toInterval),

    create: async (a) => {
      await sql.run(
        `INSERT INTO audits (id, node_id, trigger, status, priority, requested_at, requested_by, not_before)
         VALUES ($1, $2, $3, 'queued', $4, $5, $6, $7)`,
        [a.id, a.nodeId, a.trigger, a.priority, a.requestedAt, a.requestedBy, a.notBefore],
      );
    },
    get: async (id) => {
      const row = await sql.row<AuditRow>(`SELECT ${AUDIT} FROM audits WHERE id = $1`, [id]);
      return row && toAudit(row);
    },
    forNode: async (nodeId, limit, offset) => {
      const rows = await sql.rows<AuditRow & { total: number }>(
        `SELECT a.*, t.total FROM (SELECT COUNT(*) AS total FROM audits WHERE node_id = $1) t
         LEFT JOIN LATERAL (
           SELECT ${AUDIT}, seq FROM audits WHERE node_id = $1 ORDER BY requested_at DESC, seq DESC LIMIT $2 OFFSET $3
         ) a ON true
         ORDER BY a.requested_at DESC, a.seq DESC`,
        [nodeId, limit, offset],
      );
      return { audits: rows.filter((r) => r.id !== null).map(toAudit), total: rows[0]?.total ?? 0 };
    },
    openFor: async (nodeIds) =>
      nodeIds.length
        ? (
            await sql.rows<AuditRow>(
              `SELECT ${AUDIT} FROM audits WHERE status IN ('queued', 'running') AND node_id = ANY($1::text[])
               ORDER BY requested_at, seq`,
              [[...nodeIds]],
            )
          ).map(toAudit)
        : [],
    due: async (now, limit, offset) =>
      (
        await sql.rows<{ node_id: string; next_trigger: AuditTrigger | null }>(
          `SELECT s.node_id, s.next_trigger FROM node_audit_state s JOIN nodes n ON n.id = s.node_id
           WHERE s.next_audit_at IS NOT NULL AND s.next_audit_at <= $1 AND ${LIVE}
             AND NOT EXISTS (SELECT 1 FROM audits a WHERE a.node_id = s.node_id AND a.status IN ('queued', 'running'))
           ORDER BY s.next_audit_at, s.node_id LIMIT $2 OFFSET $3`,
          [now, limit, offset],
        )
      ).map((r) => ({ nodeId: r.node_id, trigger: r.next_trigger ?? 'schedule' })),
    startable: async (now, limit, offset) =>
      (
        await sql.rows<{ id: string; node_id: string }>(
          `SELECT a.id, a.node_id FROM audits a JOIN nodes n ON n.id = a.node_id
           WHERE a.status = 'queued' AND a.not_before <= $1 AND ${LIVE}
             AND NOT EXISTS (SELECT 1 FROM audits r WHERE r.node_id = a.node_id AND r.status = 'running')
           ORDER BY a.priority, a.requested_at, a.seq LIMIT $2 OFFSET $3`,
          [now, limit, offset],
        )
      ).map((r) => ({ id: r.id, nodeId: r.node_id })),
    countRunning: async () =>
      (await sql.row<{ n: number }>("SELECT COUNT(*) AS n FROM audits WHERE status = 'running'"))?.n ?? 0,
    countQueued: async () =>
      (await sql.row<{ n: number }>("SELECT COUNT(*) AS n FROM audits WHERE status = 'queued'"))?.n ?? 0,
    // The cap is checked and the audit started in one statement (start_audit, migration 007).
    start: async (id, startedAt, deadlineAt, cap) =>
      (
        await sql.row<{ started: boolean }>('SELECT start_audit($1, $2, $3, $4) AS started', [
          id,
          startedAt,
          deadlineAt,
          cap,
        ])
      )?.started === true,
    requeue: async (id, notBefore) =>
      (await sql.run(
        `UPDATE audits SET status = 'queued', started_at = NULL, deadline_at = NULL, not_before = $1
         WHERE id = $2 AND status = 'running'`,
        [notBefore, id],
      )) === 1,
    finish: async (id, o) =>
      (await sql.run(
        `UPDATE audits SET status = $2, finished_at = $3, checks = $4, skipped = $5,
           agent_version = $6, error = $7, deadline_at = NULL
         WHERE id = $1 AND status IN ('queued', 'running')`,
        [
          id,
          o.status,
          o.finishedAt,
          o.checks ? JSON.stringify(o.checks) : null,
          o.skipped ? JSON.stringify(o.skipped) : null,
          o.agentVersion ?? null,
          o.error ?? null,
        ],
      )) === 1,
    overdue: async (now) =>
      (
        await sql.rows<AuditRow>(
          `SELECT ${AUDIT} FROM audits WHERE status = 'running' AND deadline_at < $1 ORDER BY deadline_at, seq`,
          [now],
        )
      ).map(toAudit),
    setDiagnostics: async (id, commandId) => {
      await sql.run('UPDATE audits SET diagnostics_id = $1 WHERE id = $2', [commandId, id]);
    },
    // Each row is rewritten on its own: blanking details twice gives the same row.
    compact: async (nodeId, keep) => {
      const rows = await sql.rows<{ id: string; checks: string }>(
        `SELECT id, checks FROM audits WHERE node_id = $1 AND checks IS NOT NULL AND finished_at IS NOT NULL
         ORDER BY finished_at DESC, seq DESC LIMIT 4 OFFSET $2`,
        [nodeId, keep],
      );
      for (const row of rows) {
        const checks = JSON.parse(row.checks) as AuditCheck[];
        if (checks.every((c) => c.detail === '' && c.fix === '')) continue;
        await sql.run('UPDATE audits SET checks = $1 WHERE id = $2', [
          JSON.stringify(checks.map((c) => ({ ...c, detail: '', fix: '' }))),
          row.id,
        ]);
      }
    },
    failingChecks: async () =>
      (
        await sql.rows<{ check_id: string; summary: string; nodes: number }>(
          `SELECT (j ->> 'id') COLLATE "C" AS check_id, (j ->> 'summary') COLLATE "C" AS summary,
             COUNT(DISTINCT s.node_id) AS nodes
           FROM node_audit_state s
             JOIN nodes n ON n.id = s.node_id
             JOIN audits a ON a.id = s.last_audit_id
             CROSS JOIN LATERAL json_array_elements(a.checks::json) j
           WHERE s.state = 'failing' AND ${LIVE} AND j ->> 'status' = 'fail'
           GROUP BY 1, 2 ORDER BY nodes DESC, check_id, summary`,
        )
      ).map((r) => ({ checkId: r.check_id, summary: r.summary, nodes: r.nodes })),
    approvedHardware: async (nodeId) => {
      const row = await sql.row<{ hardware: string }>(
        `SELECT h.hardware FROM node_hardware_history h JOIN nodes n ON n.id = h.node_id
         WHERE h.node_id = $1 AND h.at <= COALESCE(n.approved_at, n.enrolled_at)
         ORDER BY h.at DESC, h.id DESC LIMIT 1`,
        [nodeId],
      );
      return row ? (JSON.parse(row.hardware) as HardwareFacts) : undefined;
    },
  };
}
