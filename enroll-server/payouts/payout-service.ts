/**
 * Payout periods: load what a statement needs (presence, outages, usage, hardware, adjustments,
 * the rate card), compute it with the pure functions of this folder, save, lock, verify.
 *
 * A statement is read inside one transaction, so it sees one consistent state of the database
 * however long it takes; that is what makes a locked statement's hash reproducible by `verify`.
 */
import { gpuClasses } from '../../protocol/attributes.js';
import type { ActivityLog } from '../core/activity-log.js';
import { type Principal, actorOf } from '../core/auth.js';
import {
  ConflictError,
  NoRateCardError,
  NotFoundError,
  PeriodNotEndedError,
  ValidationError,
} from '../core/errors.js';
import { newId } from '../core/ids.js';
import type { EventOutbox } from '../core/domain-events.js';
import type { Transactional } from '../core/transactions.js';
import { statementLockedEvent } from './statement-event.js';
import { MINUTE_MS, type Span } from '../core/uptime.js';
import type { PayoutRepository, PeriodRecord, RateCardRecord } from './payout-repository.js';
import { cardInForce, toRateCard } from './rate-cards.js';
import { type StatementJson, lineJson, statementHash, totalsJson } from './statement-json.js';
import {
  type NodeInput,
  type PeriodInput,
  type StatementLine,
  computeLine,
  lineUsageQueries,
  sortLines,
  totalsOf,
} from './statement.js';
import { verifiedSpans } from './verified-time.js';
import { usageFromAnswers } from './workload.js';

export { cardInForce, toRateCard } from './rate-cards.js';

/** Gaps in the server's own runs shorter than this are restarts, not outages. */
const DETECTED_OUTAGE_MIN_MS = 2 * MINUTE_MS;

export interface PayoutDeps {
  repos: Transactional<{ payouts: PayoutRepository; activity: ActivityLog; events: EventOutbox }>;
  now: () => number;
  /** Write buffered presence before reading it. */
  flushPresence: () => Promise<void>;
}

export interface Earnings {
  period: PeriodRecord | null;
  start: number;
  end: number;
  statement: StatementJson;
  estimate: boolean;
}

async function periodOf(payouts: PayoutRepository, id: string): Promise<PeriodRecord> {
  const p = await payouts.period(id);
  if (!p) throw new NotFoundError(`Payout period ${id} not found.`);
  return p;
}

/** Nodes read per batch: a few round trips per batch, and a bounded amount held at once. */
const NODE_BATCH = 500;
/** Batches read ahead of the one being computed (at most this many more held at once). */
const READS_AHEAD = 2;
/** Lines computed between two yields to pending I/O (a few milliseconds of arithmetic). */
const LINE_SLICE = 50;
const yieldToIo = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The inputs of a batch of nodes' lines, read set-wise (a handful of reads for the whole batch). */
async function nodeInputs(
  payouts: PayoutRepository,
  nodes: readonly { id: string; ownerId: string }[],
  period: PeriodInput,
  asOf: number,
  adjustments: ReadonlyMap<string, readonly bigint[]>,
): Promise<NodeInput[]> {
  const ids = nodes.map((n) => n.id);
  const [intervals, histories, audits] = await Promise.all([
    payouts.presenceOf(ids, period.start - MINUTE_MS),
    payouts.hardwareHistoryOf(ids),
    payouts.auditHistoryOf(ids, period.start, asOf),
  ]);
  const lines = nodes.map((node) => {
    const presence: Span[] = (intervals.get(node.id) ?? [])
      .filter((i) => i.startedAt < period.end)
      .map((i) => ({ start: i.startedAt, end: Math.min(i.endedAt ?? i.lastSeenAt, asOf) }));
    const hardware = (histories.get(node.id) ?? []).map((h) => ({
      at: h.at,
      classes: gpuClasses(h.hardware),
    }));
    return { node, presence, hardware, queries: lineUsageQueries({ hardware, presence }, period) };
  });
  const answers = await payouts.usageOf(
    lines.map((l) => ({ nodeId: l.node.id, queries: l.queries })),
    asOf,
  );
  return lines.map(({ node, presence, hardware, queries }, i): NodeInput => {
    const answer = answers[i];
    if (!answer) throw new Error(`No usage answers for node ${node.id}.`);
    const history = audits.get(node.id) ?? { intervals: [], firstStartedAt: null };
    return {
      nodeId: node.id,
      ownerId: node.ownerId,
      hardware,
      presence,
      usage: usageFromAnswers(queries, answer),
      adjustments: adjustments.get(node.id) ?? [],
      verified: verifiedSpans(history, period.start, asOf),
    };
  });
}

async function outagesFor(
  payouts: PayoutRepository,
  start: number,
  end: number,
  asOf: number,
): Promise<Span[]> {
  const [declared, detected] = await Promise.all([
    payouts.outages(start, end, asOf),
    payouts.detectedOutages(start, end, DETECTED_OUTAGE_MIN_MS),
  ]);
  return [...declared.map((o) => ({ start: o.start, end: o.end })), ...detected.filter((o) => o.end <= asOf)];
}

/** The statement of [start, end) as known at `asOf`, for every node or one owner's. */
async function build(
  payouts: PayoutRepository,
  p: { id: string; start: number; end: number },
  card: RateCardRecord,
  asOf: number,
  status: string,
  ownerId?: string,
): Promise<StatementJson> {
  const outages = await outagesFor(payouts, p.start, p.end, asOf);
  const rateCard = toRateCard(card);
  const period: PeriodInput = { periodId: p.id, start: p.start, end: p.end };
  const adjustments = new Map<string, bigint[]>();
  for (const a of await payouts.adjustmentsFor(p.id)) {
    if (a.createdAt > asOf) continue;
    adjustments.set(a.nodeId, [...(adjustments.get(a.nodeId) ?? []), BigInt(a.amountUusd)]);
  }
  const nodes = (await payouts.nodesForPeriod(p.id, p.start, p.end)).filter(
    (n) => ownerId === undefined || n.ownerId === ownerId,
  );
  const lines: StatementLine[] = [];
  // Reads run ahead of the arithmetic: with PostgreSQL (another process) the next batches'
  // queries run while this process works on the lines. They share the transaction's one
  // connection, which sends a query only when this process hands control back, so the lines are
  // computed in slices with a yield between them. A read still running when the statement fails
  // is not waited for, and its own failure is not reported twice.
  const read = (i: number) => {
    const inputs = nodeInputs(payouts, nodes.slice(i, i + NODE_BATCH), period, asOf, adjustments);
    inputs.catch(() => undefined);
    return inputs;
  };
  const ahead: Promise<NodeInput[]>[] = [];
  let nextRead = 0;
  const fill = () => {
    while (ahead.length < READS_AHEAD && nextRead < nodes.length) {
      ahead.push(read(nextRead));
      nextRead += NODE_BATCH;
    }
  };
  fill();
  for (let next = ahead.shift(); next; next = ahead.shift()) {
    const inputs = await next;
    fill();
    for (let k = 0; k < inputs.length; k += LINE_SLICE) {
      if (k > 0) await yieldToIo();
      for (const input of inputs.slice(k, k + LINE_SLICE))
        lines.push(computeLine(input, period, rateCard, outages));
    }
  }
  sortLines(lines);
  return {
    periodId: p.id,
    start: new Date(p.start).toISOString(),
    end: new Date(p.end).toISOString(),
    status,
    rateCardVersion: card.version,
    lines: lines.map(lineJson),
    totals: totalsJson(totalsOf(lines)),
  };
}

async function cardFor(payouts: PayoutRepository, p: PeriodRecord): Promise<RateCardRecord> {
  const cards = await payouts.rateCards();
  const pinned = p.rateCardVersion === null ? undefined : cards.find((c) => c.version === p.rateCardVersion);
  const card = pinned ?? cardInForce(cards, p.start);
  if (!card)
    throw new NoRateCardError(
      `No rate card is in force at ${new Date(p.start).toISOString()}: add one with POST /v1/rate-cards.`,
    );
  return card;
}

export function createPayoutService({ repos, now, flushPresence }: PayoutDeps) {
  return {
    period: (id: string): Promise<PeriodRecord> => periodOf(repos.payouts, id),

    async create(principal: Principal, start: number, end: number): Promise<PeriodRecord> {
      if (start % MINUTE_MS !== 0 || end % MINUTE_MS !== 0) {
        throw new ValidationError('start and end must fall on whole minutes (UTC).', {
          details: [{ field: 'start', message: 'minute-aligned' }],
        });
      }
      if (end <= start)
        throw new ValidationError("'end' must be after 'start'.", {
          details: [{ field: 'end', message: 'after start' }],
        });
      const id = newId('per');
      const at = now();
      return repos.transaction(async (tx) => {
        const clash = (await tx.payouts.overlapping(start, end))[0];
        if (clash)
          throw new ConflictError(
            `The period overlaps ${clash.id} (${new Date(clash.start).toISOString()} – ${new Date(clash.end).toISOString()}).`,
          );
        await tx.payouts.createPeriod(id, start, end, at);
        await tx.activity.record(
          at,
          actorOf(principal),
          'payout.period_created',
          { type: 'payout_period', id },
          { start, end },
        );
        return periodOf(tx.payouts, id);
      });
    },

    async compute(principal: Principal, id: string): Promise<StatementJson> {
      if ((await periodOf(repos.payouts, id)).status === 'locked')
        throw new ConflictError(`Period ${id} is locked; its statement never changes.`);
      await flushPresence();
      return repos.transaction(async (tx) => {
        const p = await periodOf(tx.payouts, id);
        if (p.status === 'locked')
          throw new ConflictError(`Period ${id} is locked; its statement never changes.`);
        const at = now();
        const card = await cardFor(tx.payouts, { ...p, rateCardVersion: null });
        const statement = await build(tx.payouts, p, card, at, 'computed');
        const hash = statementHash(statement);
        await tx.payouts.saveComputed(id, JSON.stringify(statement), hash, statement.rateCardVersion, at);
        await tx.activity.record(
          at,
          actorOf(principal),
          'payout.computed',
          { type: 'payout_period', id },
          { hash, total: statement.totals.totalUusd },
        );
        return { ...statement, hash };
      });
    },

    async lock(principal: Principal, id: string): Promise<StatementJson> {
      const p = await periodOf(repos.payouts, id);
      if (p.status === 'locked') throw new ConflictError(`Period ${id} is already locked.`);
      if (now() < p.end) {
        throw new PeriodNotEndedError(
          `Period ${id} ends at ${new Date(p.end).toISOString()}; it can be locked only after it has ended.`,
        );
      }
      await flushPresence();
      return repos.transaction(async (tx) => {
        const at = now();
        const card = await cardFor(tx.payouts, { ...p, rateCardVersion: null });
        const statement = await build(tx.payouts, p, card, at, 'locked');
        const hash = statementHash(statement);
        const locked = { ...statement, hash };
        if (
          !(await tx.payouts.lock(
            id,
            JSON.stringify(locked),
            hash,
            statement.rateCardVersion,
            at,
            principal.tokenId,
          ))
        ) {
          throw new ConflictError(`Period ${id} was locked by someone else meanwhile.`);
        }
        await tx.activity.record(
          at,
          actorOf(principal),
          'payout.locked',
          { type: 'payout_period', id },
          { hash, total: statement.totals.totalUusd },
        );
        await tx.events.append(at, statementLockedEvent(locked, p));
        return locked;
      });
    },

    /** Recompute a locked period from the data as it was at lock time; the hash must match. */
    async verify(id: string): Promise<{ hash: string; recomputedHash: string; matches: boolean }> {
      return repos.transaction(async (tx) => {
        const p = await periodOf(tx.payouts, id);
        if (p.status !== 'locked' || p.lockedAt === null || p.hash === null)
          throw new ConflictError(`Period ${id} is not locked.`);
        const card = await cardFor(tx.payouts, p);
        const recomputed = statementHash(await build(tx.payouts, p, card, p.lockedAt, 'locked'));
        return { hash: p.hash, recomputedHash: recomputed, matches: recomputed === p.hash };
      });
    },

    /** The stored statement (computed or locked). */
    async statement(id: string): Promise<StatementJson> {
      const p = await periodOf(repos.payouts, id);
      if (!p.statement)
        throw new ConflictError(
          `Period ${id} has not been computed yet: POST /v1/payout-periods/${id}/compute.`,
        );
      return JSON.parse(p.statement) as StatementJson;
    },

    /** An owner's lines per period: stored where computed or locked, an estimate for open ones. */
    async earnings(ownerId: string, limit: number): Promise<Earnings[]> {
      const at = now();
      return repos.transaction(async (tx) => {
        const out: Earnings[] = [];
        for (const p of (await tx.payouts.periods()).slice(0, limit)) {
          if (p.status !== 'open' && p.statement) {
            const s = JSON.parse(p.statement) as StatementJson;
            out.push({
              period: p,
              start: p.start,
              end: p.end,
              statement: { ...s, lines: s.lines.filter((l) => l.ownerId === ownerId) },
              estimate: p.status !== 'locked',
            });
            continue;
          }
          const card = cardInForce(await tx.payouts.rateCards(), p.start);
          if (!card) continue;
          const until = Math.max(p.start + MINUTE_MS, Math.min(at - (at % MINUTE_MS), p.end));
          out.push({
            period: p,
            start: p.start,
            end: p.end,
            statement: await build(
              tx.payouts,
              { id: p.id, start: p.start, end: until },
              card,
              at,
              'estimate',
              ownerId,
            ),
            estimate: true,
          });
        }
        return out;
      });
    },
  };
}
export type PayoutService = ReturnType<typeof createPayoutService>;
