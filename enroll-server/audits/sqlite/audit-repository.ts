import type { AuditCheck, AuditSkip } from '../../../protocol/audit.js';
import type { HardwareFacts } from '../../../protocol/hardware.js';
import type { Db } from '../../core/sqlite/database.js';
import type { Run } from '../../core/sqlite/engine.js';
import type {
  AuditRecord,
  AuditRepository,
  AuditStateInterval,
  NodeAuditState,
} from '../audit-repository.js';
import type { AuditStatus, AuditTrigger, StoredAuditState } from '../audit-rules.js';

interface AuditRow {
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
}

interface StateRow {
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
}

interface IntervalRow {
  node_id: string;
  state: StoredAuditState;
  started_at: number;
  ended_at: number | null;
  verified_until: number;
  audit_id: string | null;
}

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

export function sqliteAuditRepository(db: Db): (run: Run) => AuditRepository {
  const stateById = db.prepare<[string], StateRow>('SELECT * FROM node_audit_state WHERE node_id = ?');
  const statesByIds = db.prepare<[string], StateRow>(
    'SELECT * FROM node_audit_state WHERE node_id IN (SELECT value FROM json_each(?))',
  );
  const saveState = db.prepare(
    `INSERT INTO node_audit_state (node_id, state, state_since, last_audit_id, last_passed_at, failures,
       next_audit_at, next_trigger, owner_requested_at, updated_at)
     VALUES (@nodeId, @state, @stateSince, @lastAuditId, @lastPassedAt, @failures, @nextAuditAt,
       @nextTrigger, @ownerRequestedAt, @updatedAt)
     ON CONFLICT (node_id) DO UPDATE SET state = excluded.state, state_since = excluded.state_since,
       last_audit_id = excluded.last_audit_id, last_passed_at = excluded.last_passed_at,
       failures = excluded.failures, next_audit_at = excluded.next_audit_at,
       next_trigger = excluded.next_trigger, owner_requested_at = excluded.owner_requested_at,
       updated_at = excluded.updated_at`,
  );
  const withoutState = db.prepare<[number], { id: string }>(
    `SELECT n.id FROM nodes n WHERE ${LIVE}
       AND NOT EXISTS (SELECT 1 FROM node_audit_state s WHERE s.node_id = n.id)
     ORDER BY n.approved_at, n.id LIMIT ?`,
  );
  const counts = db.prepare<[number], { state: string; n: number }>(
    `SELECT CASE WHEN s.state = 'passing' AND (s.last_passed_at IS NULL OR s.last_passed_at <= ?)
              THEN 'stale' ELSE s.state END AS state, COUNT(*) AS n
     FROM node_audit_state s JOIN nodes n ON n.id = s.node_id WHERE ${LIVE} GROUP BY 1`,
  );
  const liveNodes = db.prepare<[], { n: number }>(`SELECT COUNT(*) AS n FROM nodes n WHERE ${LIVE}`);

  const endOpen = db.prepare(
    'UPDATE audit_state_intervals SET ended_at = MAX(started_at, ?) WHERE node_id = ? AND ended_at IS NULL',
  );
  const insertInterval = db.prepare(
    `INSERT INTO audit_state_intervals (node_id, state, started_at, verified_until, audit_id)
     VALUES (@nodeId, @state, @startedAt, @verifiedUntil, @auditId)`,
  );
  const intervals = db.prepare<[string, number, number], IntervalRow>(
    `SELECT * FROM audit_state_intervals
     WHERE node_id = ? AND (ended_at IS NULL OR ended_at >= ?) AND started_at <= ?
     ORDER BY started_at, id`,
  );

  const insertAudit = db.prepare(
    `INSERT INTO audits (id, node_id, trigger, status, priority, requested_at, requested_by, not_before)
     VALUES (@id, @nodeId, @trigger, 'queued', @priority, @requestedAt, @requestedBy, @notBefore)`,
  );
  const byId = db.prepare<[string], AuditRow>('SELECT * FROM audits WHERE id = ?');
  const forNode = db.prepare<[string, number, number], AuditRow>(
    'SELECT * FROM audits WHERE node_id = ? ORDER BY requested_at DESC, rowid DESC LIMIT ? OFFSET ?',
  );
  const countForNode = db.prepare<[string], { n: number }>(
    'SELECT COUNT(*) AS n FROM audits WHERE node_id = ?',
  );
  const openFor = db.prepare<[string], AuditRow>(
    `SELECT * FROM audits WHERE status IN ('queued', 'running')
       AND node_id IN (SELECT value FROM json_each(?)) ORDER BY requested_at`,
  );
  const due = db.prepare<[number, number, number], { node_id: string; next_trigger: AuditTrigger | null }>(
    `SELECT s.node_id, s.next_trigger FROM node_audit_state s JOIN nodes n ON n.id = s.node_id
     WHERE s.next_audit_at IS NOT NULL AND s.next_audit_at <= ? AND ${LIVE}
       AND NOT EXISTS (SELECT 1 FROM audits a WHERE a.node_id = s.node_id AND a.status IN ('queued', 'running'))
     ORDER BY s.next_audit_at, s.node_id LIMIT ? OFFSET ?`,
  );
  const startable = db.prepare<[number, number, number], { id: string; node_id: string }>(
    `SELECT a.id, a.node_id FROM audits a JOIN nodes n ON n.id = a.node_id
     WHERE a.status = 'queued' AND a.not_before <= ? AND ${LIVE}
       AND NOT EXISTS (SELECT 1 FROM audits r WHERE r.node_id = a.node_id AND r.status = 'running')
     ORDER BY a.priority, a.requested_at, a.rowid LIMIT ? OFFSET ?`,
  );
  const countRunning = db.prepare<[], { n: number }>(
    "SELECT COUNT(*) AS n FROM audits WHERE status = 'running'",
  );
  const countQueued = db.prepare<[], { n: number }>(
    "SELECT COUNT(*) AS n FROM audits WHERE status = 'queued'",
  );
  const start = db.prepare(
    `UPDATE audits SET status = 'running', started_at = @startedAt, deadline_at = @deadlineAt
     WHERE id = @id AND status = 'queued'
       AND (SELECT COUNT(*) FROM audits WHERE status = 'running') < @cap`,
  );
  const requeue = db.prepare(
    `UPDATE audits SET status = 'queued', started_at = NULL, deadline_at = NULL, not_before = ?
     WHERE id = ? AND status = 'running'`,
  );
  const finish = db.prepare(
    `UPDATE audits SET status = @status, finished_at = @finishedAt, checks = @checks, skipped = @skipped,
       agent_version = @agentVersion, error = @error, deadline_at = NULL
     WHERE id = @id AND status IN ('queued', 'running')`,
  );
  const overdue = db.prepare<[number], AuditRow>(
    "SELECT * FROM audits WHERE status = 'running' AND deadline_at < ? ORDER BY deadline_at",
  );
  const setDiagnostics = db.prepare('UPDATE audits SET diagnostics_id = ? WHERE id = ?');
  const compactable = db.prepare<[string, number], { id: string; checks: string }>(
    `SELECT id, checks FROM audits WHERE node_id = ? AND checks IS NOT NULL AND finished_at IS NOT NULL
     ORDER BY finished_at DESC LIMIT 4 OFFSET ?`,
  );
  const setChecks = db.prepare('UPDATE audits SET checks = ? WHERE id = ?');
  const failingChecks = db.prepare<[], { check_id: string; summary: string; nodes: number }>(
    `SELECT j.value ->> 'id' AS check_id, j.value ->> 'summary' AS summary, COUNT(DISTINCT s.node_id) AS nodes
     FROM node_audit_state s
       JOIN nodes n ON n.id = s.node_id
       JOIN audits a ON a.id = s.last_audit_id, json_each(a.checks) j
     WHERE s.state = 'failing' AND ${LIVE} AND j.value ->> 'status' = 'fail'
     GROUP BY 1, 2 ORDER BY nodes DESC, check_id, summary`,
  );
  const approvedHardware = db.prepare<[string], { hardware: string }>(
    `SELECT h.hardware FROM node_hardware_history h JOIN nodes n ON n.id = h.node_id
     WHERE h.node_id = ? AND h.at <= COALESCE(n.approved_at, n.enrolled_at)
     ORDER BY h.at DESC, h.rowid DESC LIMIT 1`,
  );

  function nodeIdsInState(states: readonly StoredAuditState[], passed?: { before?: number; since?: number }) {
    const where = ['s.state IN (SELECT value FROM json_each(@states))'];
    const params: Record<string, string | number> = { states: JSON.stringify(states) };
    if (passed?.before !== undefined) {
      where.push('(s.last_passed_at IS NULL OR s.last_passed_at <= @before)');
      params.before = passed.before;
    }
    if (passed?.since !== undefined) {
      where.push('s.last_passed_at > @since');
      params.since = passed.since;
    }
    return db
      .prepare<Record<string, string | number>, { node_id: string }>(
        `SELECT s.node_id FROM node_audit_state s WHERE ${where.join(' AND ')}`,
      )
      .all(params)
      .map((r) => r.node_id);
  }

  return (run) => ({
    state: (nodeId) =>
      run(() => {
        const row = stateById.get(nodeId);
        return row && toState(row);
      }),
    states: (nodeIds) =>
      run(() => (nodeIds.length ? statesByIds.all(JSON.stringify(nodeIds)).map(toState) : [])),
    saveState: (state) =>
      run(() => {
        saveState.run(state);
      }),
    nodesWithoutState: (limit) => run(() => withoutState.all(limit).map((r) => r.id)),
    nodeIdsInState: (states, passed) => run(() => nodeIdsInState(states, passed)),
    stateCounts: (staleBefore) =>
      run(() => {
        const result = { never: 0, passing: 0, failing: 0, stale: 0 };
        let known = 0;
        for (const r of counts.all(staleBefore)) {
          if (r.state === 'never' || r.state === 'passing' || r.state === 'failing' || r.state === 'stale')
            result[r.state] += r.n;
          known += r.n;
        }
        // Approved nodes without a row yet have never been audited.
        result.never += Math.max(0, (liveNodes.get()?.n ?? 0) - known);
        return result;
      }),

    startInterval: (interval) =>
      run(() => {
        endOpen.run(interval.startedAt, interval.nodeId);
        insertInterval.run(interval);
      }),
    intervals: (nodeId, from, asOf) => run(() => intervals.all(nodeId, from, asOf).map(toInterval)),

    create: (audit) =>
      run(() => {
        insertAudit.run(audit);
      }),
    get: (id) =>
      run(() => {
        const row = byId.get(id);
        return row && toAudit(row);
      }),
    forNode: (nodeId, limit, offset) =>
      run(() => ({
        audits: forNode.all(nodeId, limit, offset).map(toAudit),
        total: countForNode.get(nodeId)?.n ?? 0,
      })),
    openFor: (nodeIds) =>
      run(() => (nodeIds.length ? openFor.all(JSON.stringify(nodeIds)).map(toAudit) : [])),
    due: (now, limit, offset) =>
      run(() =>
        due
          .all(now, limit, offset)
          .map((r) => ({ nodeId: r.node_id, trigger: r.next_trigger ?? 'schedule' })),
      ),
    startable: (now, limit, offset) =>
      run(() => startable.all(now, limit, offset).map((r) => ({ id: r.id, nodeId: r.node_id }))),
    countRunning: () => run(() => countRunning.get()?.n ?? 0),
    countQueued: () => run(() => countQueued.get()?.n ?? 0),
    start: (id, startedAt, deadlineAt, cap) =>
      run(() => start.run({ id, startedAt, deadlineAt, cap }).changes === 1),
    requeue: (id, notBefore) => run(() => requeue.run(notBefore, id).changes === 1),
    finish: (id, o) =>
      run(
        () =>
          finish.run({
            id,
            status: o.status,
            finishedAt: o.finishedAt,
            checks: o.checks ? JSON.stringify(o.checks) : null,
            skipped: o.skipped ? JSON.stringify(o.skipped) : null,
            agentVersion: o.agentVersion ?? null,
            error: o.error ?? null,
          }).changes === 1,
      ),
    overdue: (now) => run(() => overdue.all(now).map(toAudit)),
    setDiagnostics: (id, commandId) =>
      run(() => {
        setDiagnostics.run(commandId, id);
      }),
    compact: (nodeId, keep) =>
      run(() => {
        for (const row of compactable.all(nodeId, keep)) {
          const checks = JSON.parse(row.checks) as AuditCheck[];
          if (checks.every((c) => c.detail === '' && c.fix === '')) continue;
          setChecks.run(JSON.stringify(checks.map((c) => ({ ...c, detail: '', fix: '' }))), row.id);
        }
      }),
    failingChecks: () =>
      run(() =>
        failingChecks.all().map((r) => ({ checkId: r.check_id, summary: r.summary, nodes: r.nodes })),
      ),
    approvedHardware: (nodeId) =>
      run(() => {
        const row = approvedHardware.get(nodeId);
        return row ? (JSON.parse(row.hardware) as HardwareFacts) : undefined;
      }),
  });
}
