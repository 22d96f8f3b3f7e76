import type { Sql } from '../../core/postgres/engine.js';
import type { PayoutRepository, PeriodRecord, PeriodStatus, RateCardRecord } from '../payout-repository.js';
import { gapsBetweenRuns } from '../server-liveness.js';
import { postgresStatementReads } from './statement-reads.js';

type PeriodRow = {
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
};

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

type CardRow = {
  version: number;
  effective_from: number;
  rates: string;
  note: string | null;
  created_at: number;
  created_by: string | null;
};

type AdjustmentRow = {
  id: string;
  node_id: string;
  owner_id: string;
  amount_uusd: string;
  reason: string;
  actor: string;
  created_at: number;
  period_id: string | null;
};

type OutageRow = {
  id: string;
  start_at: number;
  end_at: number;
  reason: string;
  created_by: string | null;
  created_at: number;
};

export function postgresPayoutRepository(sql: Sql): PayoutRepository {
  const reads = postgresStatementReads(sql);
  return {
    addRateCard: async (card) => {
      const row = await sql.row<{ version: number }>(
        `INSERT INTO rate_cards (effective_from, rates, note, created_at, created_by) VALUES ($1, $2, $3, $4, $5)
         RETURNING version`,
        [card.effectiveFrom, JSON.stringify(card.rates), card.note, card.createdAt, card.createdBy],
      );
      if (!row) throw new Error('The rate card was not stored.');
      return row.version;
    },
    rateCards: async () =>
      (await sql.rows<CardRow>('SELECT * FROM rate_cards ORDER BY version')).map((r): RateCardRecord => ({
        version: r.version,
        effectiveFrom: r.effective_from,
        rates: JSON.parse(r.rates) as RateCardRecord['rates'],
        note: r.note,
        createdAt: r.created_at,
        createdBy: r.created_by,
      })),
    // One statement: the period and the adjustments waiting for it are written together.
    createPeriod: async (id, start, end, now) => {
      await sql.run(
        `WITH period AS (
           INSERT INTO payout_periods (id, start_at, end_at, status, created_at) VALUES ($1, $2, $3, 'open', $4)
           RETURNING id)
         UPDATE adjustments SET period_id = (SELECT id FROM period) WHERE period_id IS NULL AND created_at < $3`,
        [id, start, end, now],
      );
    },
    overlapping: async (start, end) =>
      (
        await sql.rows<PeriodRow>('SELECT * FROM payout_periods WHERE start_at < $1 AND end_at > $2', [
          end,
          start,
        ])
      ).map(toPeriod),
    period: async (id) => {
      const row = await sql.row<PeriodRow>('SELECT * FROM payout_periods WHERE id = $1', [id]);
      return row && toPeriod(row);
    },
    periods: async () =>
      (await sql.rows<PeriodRow>('SELECT * FROM payout_periods ORDER BY start_at DESC')).map(toPeriod),
    // Compare-and-set on the row: a locked period is never written again, by any replica.
    saveComputed: async (id, statement, hash, rateCardVersion, at) =>
      (await sql.run(
        `UPDATE payout_periods SET status = 'computed', statement = $1, hash = $2, rate_card_version = $3, computed_at = $4
         WHERE id = $5 AND status != 'locked'`,
        [statement, hash, rateCardVersion, at, id],
      )) === 1,
    lock: async (id, statement, hash, rateCardVersion, at, actor) =>
      (await sql.run(
        `UPDATE payout_periods SET status = 'locked', statement = $1, hash = $2, rate_card_version = $3,
           computed_at = $4, locked_at = $4, locked_by = $5
         WHERE id = $6 AND status != 'locked'`,
        [statement, hash, rateCardVersion, at, actor, id],
      )) === 1,
    addAdjustment: async (a) => {
      const row = await sql.row<{ period_id: string | null }>(
        `INSERT INTO adjustments (id, node_id, owner_id, amount_uusd, reason, actor, created_at, period_id)
         VALUES ($1, $2, $3, $4::bigint, $5, $6, $7,
           (SELECT id FROM payout_periods WHERE status != 'locked' AND end_at > $7 ORDER BY start_at LIMIT 1))
         RETURNING period_id`,
        [a.id, a.nodeId, a.ownerId, a.amountUusd, a.reason, a.actor, a.createdAt],
      );
      return { ...a, periodId: row?.period_id ?? null };
    },
    adjustmentsFor: async (periodId) =>
      (
        await sql.rows<AdjustmentRow>(
          `SELECT id, node_id, owner_id, amount_uusd::text AS amount_uusd, reason, actor, created_at, period_id
           FROM adjustments WHERE period_id = $1 ORDER BY created_at, id`,
          [periodId],
        )
      ).map((r) => ({
        id: r.id,
        nodeId: r.node_id,
        ownerId: r.owner_id,
        amountUusd: r.amount_uusd,
        reason: r.reason,
        actor: r.actor,
        createdAt: r.created_at,
        periodId: r.period_id,
      })),
    addOutage: async (o) => {
      await sql.run(
        'INSERT INTO outages (id, start_at, end_at, reason, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)',
        [o.id, o.start, o.end, o.reason, o.createdBy, o.createdAt],
      );
    },
    outages: async (from, to, asOf) =>
      (
        await sql.rows<OutageRow>(
          'SELECT * FROM outages WHERE start_at < $1 AND end_at > $2 AND created_at <= $3 ORDER BY start_at, id',
          [to, from, asOf],
        )
      ).map((r) => ({
        id: r.id,
        start: r.start_at,
        end: r.end_at,
        reason: r.reason,
        createdBy: r.created_by,
        createdAt: r.created_at,
      })),
    startRun: async (now) => {
      const row = await sql.row<{ id: number }>(
        'INSERT INTO server_runs (started_at, last_alive_at) VALUES ($1, $1) RETURNING id',
        [now],
      );
      if (!row) throw new Error('The server run was not stored.');
      return row.id;
    },
    alive: async (runId, now) => {
      await sql.run('UPDATE server_runs SET last_alive_at = $1 WHERE id = $2', [now, runId]);
    },
    detectedOutages: async (from, to, minGapMs) => {
      const runs = await sql.rows<{ id: number; started_at: number; last_alive_at: number }>(
        'SELECT * FROM server_runs WHERE last_alive_at >= $1::bigint - 86400000 AND started_at < $2 ORDER BY id',
        [from, to],
      );
      return gapsBetweenRuns(
        runs.map((r) => ({ startedAt: r.started_at, lastAliveAt: r.last_alive_at })),
        from,
        to,
        minGapMs,
      );
    },
    nodesForPeriod: async (periodId, start, end) =>
      (
        await sql.rows<{ id: string; owner_id: string }>(
          `SELECT id, owner_id FROM nodes WHERE enrolled_at < $2 AND (
             (status IN ('approved', 'active') AND approved_at < $2)
             OR id IN (SELECT node_id FROM presence_intervals WHERE started_at < $2 AND COALESCE(ended_at, last_seen_at) >= $1)
             OR id IN (SELECT node_id FROM adjustments WHERE period_id = $3))
           ORDER BY owner_id, id`,
          [start, end, periodId],
        )
      ).map((r) => ({ id: r.id, ownerId: r.owner_id })),
    presence: async (nodeId, from) => (await reads.presenceOf([nodeId], from)).get(nodeId) ?? [],
    hardwareHistory: async (nodeId) => (await reads.hardwareHistoryOf([nodeId])).get(nodeId) ?? [],
    auditHistory: async (nodeId, from, asOf) =>
      (await reads.auditHistoryOf([nodeId], from, asOf)).get(nodeId) ?? {
        intervals: [],
        firstStartedAt: null,
      },
    usage: async (nodeId, asOf, queries) => {
      const [answers] = await reads.usageOf([{ nodeId, queries }], asOf);
      if (!answers) throw new Error('usageOf answered no ask');
      return answers;
    },
    ...reads,
  };
}
