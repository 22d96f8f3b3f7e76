import type { HardwareFacts } from '../../../protocol/hardware.js';
import { MAX_USAGE_WINDOW_MS } from '../../../protocol/control.js';
import type { Db } from '../../core/sqlite/database.js';
import type { Run } from '../../core/sqlite/engine.js';
import type { PayoutRepository, PeriodRecord, PeriodStatus, RateCardRecord } from '../payout-repository.js';
import { oneByOne } from '../one-by-one.js';
import { gapsBetweenRuns } from '../server-liveness.js';

interface PeriodRow {
  id: string;
  start_at: number;
  end_at: number;
  status: PeriodStatus;
  rate_card_version: number | null;
  statement: string | null;
  hash: string | null;
  created_at: number;
  computed_at: number | null;
  locked_at: number | null;
  locked_by: string | null;
}

const toPeriod = (r: PeriodRow): PeriodRecord => ({
  id: r.id,
  start: r.start_at,
  end: r.end_at,
  status: r.status,
  rateCardVersion: r.rate_card_version,
  statement: r.statement,
  hash: r.hash,
  createdAt: r.created_at,
  computedAt: r.computed_at,
  lockedAt: r.locked_at,
  lockedBy: r.locked_by,
});

export function sqlitePayoutRepository(db: Db): (run: Run) => PayoutRepository {
  const q = {
    insertCard: db.prepare(
      'INSERT INTO rate_cards (effective_from, rates, note, created_at, created_by) VALUES (?, ?, ?, ?, ?)',
    ),
    cards: db.prepare<
      [],
      {
        version: number;
        effective_from: number;
        rates: string;
        note: string | null;
        created_at: number;
        created_by: string | null;
      }
    >('SELECT * FROM rate_cards ORDER BY version'),
    insertPeriod: db.prepare(
      "INSERT INTO payout_periods (id, start_at, end_at, status, created_at) VALUES (?, ?, ?, 'open', ?)",
    ),
    overlapping: db.prepare<[number, number], PeriodRow>(
      'SELECT * FROM payout_periods WHERE start_at < ? AND end_at > ?',
    ),
    period: db.prepare<[string], PeriodRow>('SELECT * FROM payout_periods WHERE id = ?'),
    periods: db.prepare<[], PeriodRow>('SELECT * FROM payout_periods ORDER BY start_at DESC'),
    saveComputed: db.prepare(
      "UPDATE payout_periods SET status = 'computed', statement = ?, hash = ?, rate_card_version = ?, computed_at = ? WHERE id = ? AND status != 'locked'",
    ),
    lock: db.prepare(
      "UPDATE payout_periods SET status = 'locked', statement = ?, hash = ?, rate_card_version = ?, computed_at = ?, locked_at = ?, locked_by = ? WHERE id = ? AND status != 'locked'",
    ),
    insertAdjustment: db.prepare(
      'INSERT INTO adjustments (id, node_id, owner_id, amount_uusd, reason, actor, created_at, period_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    nextOpenPeriod: db.prepare<[number], PeriodRow>(
      "SELECT * FROM payout_periods WHERE status != 'locked' AND end_at > ? ORDER BY start_at LIMIT 1",
    ),
    claimAdjustments: db.prepare(
      'UPDATE adjustments SET period_id = ? WHERE period_id IS NULL AND created_at < ?',
    ),
    adjustmentsFor: db.prepare<
      [string],
      {
        id: string;
        node_id: string;
        owner_id: string;
        amount_uusd: string;
        reason: string;
        actor: string;
        created_at: number;
        period_id: string | null;
      }
    >('SELECT * FROM adjustments WHERE period_id = ? ORDER BY created_at'),
    insertOutage: db.prepare(
      'INSERT INTO outages (id, start_at, end_at, reason, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    outages: db.prepare<
      [number, number, number],
      {
        id: string;
        start_at: number;
        end_at: number;
        reason: string;
        created_by: string | null;
        created_at: number;
      }
    >('SELECT * FROM outages WHERE start_at < ? AND end_at > ? AND created_at <= ? ORDER BY start_at'),
    startRun: db.prepare('INSERT INTO server_runs (started_at, last_alive_at) VALUES (?, ?)'),
    alive: db.prepare('UPDATE server_runs SET last_alive_at = ? WHERE id = ?'),
    runs: db.prepare<[number, number], { id: number; started_at: number; last_alive_at: number }>(
      'SELECT * FROM server_runs WHERE last_alive_at >= ? - 86400000 AND started_at < ? ORDER BY id',
    ),
    nodesForPeriod: db.prepare<
      { start: number; end: number; periodId: string },
      { id: string; owner_id: string }
    >(
      `SELECT id, owner_id FROM nodes WHERE enrolled_at < @end AND (
         (status IN ('approved', 'active') AND approved_at < @end)
         OR id IN (SELECT node_id FROM presence_intervals WHERE started_at < @end AND COALESCE(ended_at, last_seen_at) >= @start)
         OR id IN (SELECT node_id FROM adjustments WHERE period_id = @periodId))
       ORDER BY owner_id, id`,
    ),
    usageSum: db.prepare<
      { nodeId: string; from: number; to: number; gpus: number; asOf: number },
      { seconds: number | null }
    >(
      `SELECT SUM(MIN(gpu_seconds, ((to_at - from_at) / 1000) * @gpus)) AS seconds FROM usage_reports
       WHERE node_id = @nodeId AND from_at >= @from AND from_at < @to AND to_at <= @to AND received_at <= @asOf`,
    ),
    usageCrossing: db.prepare<
      { nodeId: string; at: number; asOf: number; maxWindow: number },
      { seq: number; from_at: number; to_at: number; workloads: string }
    >(
      `SELECT seq, from_at, to_at, workloads FROM usage_reports
       WHERE node_id = @nodeId AND from_at < @at AND from_at > @at - @maxWindow AND to_at > @at AND received_at <= @asOf`,
    ),
    // For a node whose reports never overlap (not in usage_overlap_nodes, migration 016), the one
    // report that can cross a cut: the latest to start before it.
    usageCrossingLatest: db.prepare<
      { nodeId: string; at: number; asOf: number; maxWindow: number },
      { seq: number; from_at: number; to_at: number; workloads: string }
    >(
      `SELECT seq, from_at, to_at, workloads FROM (
         SELECT seq, from_at, to_at, workloads FROM usage_reports
         WHERE node_id = @nodeId AND from_at < @at AND from_at > @at - @maxWindow
           AND to_at > from_at AND received_at <= @asOf
         ORDER BY from_at DESC, seq DESC LIMIT 1)
       WHERE to_at > @at`,
    ),
    // Whether the node has any report the answers could hold (none: every answer is empty).
    anyUsage: db.prepare<
      { nodeId: string; start: number; end: number; asOf: number; maxWindow: number },
      { one: number }
    >(
      `SELECT 1 AS one FROM usage_reports
       WHERE node_id = @nodeId AND from_at > @start - 2 * @maxWindow AND from_at < @end AND received_at <= @asOf
       LIMIT 1`,
    ),
    mayOverlap: db.prepare<[string], { node_id: string }>(
      'SELECT node_id FROM usage_overlap_nodes WHERE node_id = ?',
    ),
    // Reports that a window starting earlier (or at the same ms with a lower seq) overlaps; none
    // while the usage repository keeps its rule. A report reaching into the period starts after
    // start − one window, and one overlapping it after start − two windows.
    usageOverlapped: db.prepare<
      { nodeId: string; start: number; end: number; asOf: number; maxWindow: number },
      { seq: number; from_at: number; to_at: number; workloads: string; paid_from: number }
    >(
      `SELECT r.seq, r.from_at, r.to_at, r.workloads, o.paid_from FROM (
         SELECT seq, from_at, to_at, MAX(to_at) OVER (
           ORDER BY from_at, seq ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS paid_from
         FROM usage_reports
         WHERE node_id = @nodeId AND from_at > @start - 2 * @maxWindow AND from_at < @end AND received_at <= @asOf
       ) o JOIN usage_reports r ON r.node_id = @nodeId AND r.seq = o.seq
       WHERE o.from_at < o.paid_from AND o.to_at > @start
       ORDER BY o.from_at, o.seq`,
    ),
    presence: db.prepare<
      { nodeId: string; from: number },
      { started_at: number; last_seen_at: number; ended_at: number | null }
    >(
      `SELECT started_at, last_seen_at, ended_at FROM presence_intervals
       WHERE node_id = @nodeId AND COALESCE(ended_at, last_seen_at) >= @from ORDER BY started_at`,
    ),
    history: db.prepare<[string], { at: number; hardware: string }>(
      'SELECT at, hardware FROM node_hardware_history WHERE node_id = ? ORDER BY at, id',
    ),
    // Verified time: the audit state intervals (audits/, migration 009), as known at asOf.
    auditIntervals: db.prepare<
      { nodeId: string; from: number; asOf: number },
      { started_at: number; ended_at: number | null; verified_until: number }
    >(
      `SELECT started_at, ended_at, verified_until FROM audit_state_intervals
       WHERE node_id = @nodeId AND started_at <= @asOf AND (ended_at IS NULL OR ended_at >= @from)
       ORDER BY started_at, id`,
    ),
    firstAuditInterval: db.prepare<{ nodeId: string; asOf: number }, { first: number | null }>(
      'SELECT MIN(started_at) AS first FROM audit_state_intervals WHERE node_id = @nodeId AND started_at <= @asOf',
    ),
  };

  return (run) => {
    const repo: Omit<PayoutRepository, keyof ReturnType<typeof oneByOne>> = {
      addRateCard(card) {
        return run(() =>
          Number(
            q.insertCard.run(
              card.effectiveFrom,
              JSON.stringify(card.rates),
              card.note,
              card.createdAt,
              card.createdBy,
            ).lastInsertRowid,
          ),
        );
      },
      rateCards() {
        return run(() =>
          q.cards.all().map((r): RateCardRecord => ({
            version: r.version,
            effectiveFrom: r.effective_from,
            rates: JSON.parse(r.rates) as RateCardRecord['rates'],
            note: r.note,
            createdAt: r.created_at,
            createdBy: r.created_by,
          })),
        );
      },
      createPeriod(id, start, end, now) {
        return run(() => {
          q.insertPeriod.run(id, start, end, now);
          q.claimAdjustments.run(id, end);
        });
      },
      overlapping(start, end) {
        return run(() => q.overlapping.all(end, start).map(toPeriod));
      },
      period(id) {
        return run(() => {
          const row = q.period.get(id);
          return row && toPeriod(row);
        });
      },
      periods() {
        return run(() => q.periods.all().map(toPeriod));
      },
      saveComputed(id, statement, hash, rateCardVersion, at) {
        return run(() => q.saveComputed.run(statement, hash, rateCardVersion, at, id).changes === 1);
      },
      lock(id, statement, hash, rateCardVersion, at, actor) {
        return run(() => q.lock.run(statement, hash, rateCardVersion, at, at, actor, id).changes === 1);
      },
      addAdjustment(a) {
        return run(() => {
          const periodId = q.nextOpenPeriod.get(a.createdAt)?.id ?? null;
          q.insertAdjustment.run(
            a.id,
            a.nodeId,
            a.ownerId,
            a.amountUusd,
            a.reason,
            a.actor,
            a.createdAt,
            periodId,
          );
          return { ...a, periodId };
        });
      },
      adjustmentsFor(periodId) {
        return run(() =>
          q.adjustmentsFor.all(periodId).map((r) => ({
            id: r.id,
            nodeId: r.node_id,
            ownerId: r.owner_id,
            amountUusd: r.amount_uusd,
            reason: r.reason,
            actor: r.actor,
            createdAt: r.created_at,
            periodId: r.period_id,
          })),
        );
      },
      addOutage(o) {
        return run(() => {
          q.insertOutage.run(o.id, o.start, o.end, o.reason, o.createdBy, o.createdAt);
        });
      },
      outages(from, to, asOf) {
        return run(() =>
          q.outages.all(to, from, asOf).map((r) => ({
            id: r.id,
            start: r.start_at,
            end: r.end_at,
            reason: r.reason,
            createdBy: r.created_by,
            createdAt: r.created_at,
          })),
        );
      },
      startRun(now) {
        return run(() => Number(q.startRun.run(now, now).lastInsertRowid));
      },
      alive(runId, now) {
        return run(() => {
          q.alive.run(now, runId);
        });
      },
      detectedOutages(from, to, minGapMs) {
        return run(() =>
          gapsBetweenRuns(
            q.runs.all(from, to).map((r) => ({ startedAt: r.started_at, lastAliveAt: r.last_alive_at })),
            from,
            to,
            minGapMs,
          ),
        );
      },
      nodesForPeriod(periodId, start, end) {
        return run(() =>
          q.nodesForPeriod.all({ start, end, periodId }).map((r) => ({ id: r.id, ownerId: r.owner_id })),
        );
      },
      presence(nodeId, from) {
        return run(() =>
          q.presence.all({ nodeId, from }).map((r) => ({
            startedAt: r.started_at,
            lastSeenAt: r.last_seen_at,
            endedAt: r.ended_at,
          })),
        );
      },
      hardwareHistory(nodeId) {
        return run(() =>
          q.history.all(nodeId).map((r) => ({ at: r.at, hardware: JSON.parse(r.hardware) as HardwareFacts })),
        );
      },
      auditHistory(nodeId, from, asOf) {
        return run(() => ({
          intervals: q.auditIntervals.all({ nodeId, from, asOf }).map((r) => ({
            startedAt: r.started_at,
            endedAt: r.ended_at,
            verifiedUntil: r.verified_until,
          })),
          firstStartedAt: q.firstAuditInterval.get({ nodeId, asOf })?.first ?? null,
        }));
      },
      // Sums over a covering index; only the few reports crossing a cut are read one by one.
      // The overlap check, and every report crossing a cut, only for a node whose reports may
      // overlap (stored before the rule); for the others at most one report crosses a cut.
      usage(nodeId, asOf, queries) {
        return run(() => {
          const window = {
            nodeId,
            start: queries.start,
            end: queries.end,
            asOf,
            maxWindow: MAX_USAGE_WINDOW_MS,
          };
          if (q.anyUsage.get(window) === undefined)
            return { sums: queries.sums.map(() => 0), crossings: queries.cuts.map(() => []), overlapped: [] };
          const legacy = q.mayOverlap.get(nodeId) !== undefined;
          const crossing = legacy ? q.usageCrossing : q.usageCrossingLatest;
          return {
            sums: queries.sums.map(
              ({ from, to, gpus }) => q.usageSum.get({ nodeId, from, to, gpus, asOf })?.seconds ?? 0,
            ),
            crossings: queries.cuts.map((at) =>
              crossing.all({ nodeId, at, asOf, maxWindow: MAX_USAGE_WINDOW_MS }).map((r) => ({
                seq: r.seq,
                from: r.from_at,
                to: r.to_at,
                workloads: JSON.parse(r.workloads) as { gpus: number; seconds: number }[],
              })),
            ),
            overlapped: legacy
              ? q.usageOverlapped.all(window).map((r) => ({
                  seq: r.seq,
                  from: r.from_at,
                  to: r.to_at,
                  workloads: JSON.parse(r.workloads) as { gpus: number; seconds: number }[],
                  paidFrom: Math.min(r.paid_from, r.to_at),
                }))
              : [],
          };
        });
      },
    };
    return { ...repo, ...oneByOne(repo) };
  };
}
