/**
 * Payout periods: load what a statement needs (presence, outages, usage, hardware, adjustments,
 * the rate card), compute it with the pure functions of `payouts/`, save, lock, verify.
 */
import { gpuClasses } from '../../protocol/attributes.js';
import {
  ConflictError,
  NoRateCardError,
  NotFoundError,
  PeriodNotEndedError,
  ValidationError,
} from '../core/errors.js';
import { newId } from '../core/ids.js';
import { type Principal, actorOf } from '../core/auth.js';
import type { Repositories } from '../sqlite-store.js';
import type { PeriodRecord, RateCardRecord } from './sqlite/payout-repository.js';
import { MINUTE_MS, type Span } from '../core/uptime.js';
import { type StatementJson, lineJson, statementHash, totalsJson } from './statement-json.js';
import {
  type NodeInput,
  type RateCard,
  type StatementLine,
  computeLine,
  sortLines,
  totalsOf,
} from './statement.js';

/** Gaps in the server's own runs shorter than this are restarts, not outages. */
const DETECTED_OUTAGE_MIN_MS = 2 * MINUTE_MS;

export function toRateCard(record: RateCardRecord): RateCard {
  return {
    version: record.version,
    effectiveFrom: record.effectiveFrom,
    rates: Object.fromEntries(
      Object.entries(record.rates).map(([cls, r]) => [
        cls,
        { availability: BigInt(r.availabilityUusdPerGpuHour), workload: BigInt(r.workloadUusdPerGpuHour) },
      ]),
    ),
  };
}

/** The card in force at `at`: the latest `effectiveFrom` at or before it (the newest version on a tie). */
export function cardInForce(cards: readonly RateCardRecord[], at: number): RateCardRecord | undefined {
  return [...cards]
    .filter((c) => c.effectiveFrom <= at)
    .sort((a, b) => b.effectiveFrom - a.effectiveFrom || b.version - a.version)[0];
}

export interface PayoutDeps {
  repos: Repositories;
  now: () => number;
  /** Write buffered presence before reading it. */
  flushPresence: () => void;
}

export function createPayoutService({ repos, now, flushPresence }: PayoutDeps) {
  const payouts = repos.payouts;

  function period(id: string): PeriodRecord {
    const p = payouts.period(id);
    if (!p) throw new NotFoundError(`Payout period ${id} not found.`);
    return p;
  }

  function nodeInput(
    nodeId: string,
    ownerId: string,
    p: { id: string; start: number; end: number },
    asOf: number,
  ): NodeInput {
    const presence: Span[] = repos.presence
      .forNode(nodeId, p.start - MINUTE_MS)
      .filter((i) => i.startedAt < p.end)
      .map((i) => ({ start: i.startedAt, end: Math.min(i.endedAt ?? i.lastSeenAt, asOf) }));
    const hardware = payouts
      .hardwareHistory(nodeId)
      .map((h) => ({ at: h.at, classes: gpuClasses(h.hardware) }));
    const usage = payouts.usageSource(nodeId, asOf);
    const adjustments = payouts
      .adjustmentsFor(p.id)
      .filter((a) => a.nodeId === nodeId && a.createdAt <= asOf)
      .map((a) => BigInt(a.amountUusd));
    return { nodeId, ownerId, hardware, presence, usage, adjustments };
  }

  function outagesFor(start: number, end: number, asOf: number): Span[] {
    const declared = payouts.outages(start, end, asOf).map((o) => ({ start: o.start, end: o.end }));
    const detected = payouts.detectedOutages(start, end, DETECTED_OUTAGE_MIN_MS).filter((o) => o.end <= asOf);
    return [...declared, ...detected];
  }

  /** The statement of [start, end) as known at `asOf`, for every node or one owner's. */
  function build(
    p: { id: string; start: number; end: number },
    card: RateCardRecord,
    asOf: number,
    status: string,
    ownerId?: string,
  ): StatementJson {
    const outages = outagesFor(p.start, p.end, asOf);
    const rateCard = toRateCard(card);
    const lines: StatementLine[] = payouts
      .nodesForPeriod(p.id, p.start, p.end)
      .filter((n) => ownerId === undefined || n.ownerId === ownerId)
      .map((n) =>
        computeLine(
          nodeInput(n.id, n.ownerId, p, asOf),
          { periodId: p.id, start: p.start, end: p.end },
          rateCard,
          outages,
        ),
      );
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

  function cardFor(p: PeriodRecord): RateCardRecord {
    const cards = payouts.rateCards();
    const pinned =
      p.rateCardVersion === null ? undefined : cards.find((c) => c.version === p.rateCardVersion);
    const card = pinned ?? cardInForce(cards, p.start);
    if (!card)
      throw new NoRateCardError(
        `No rate card is in force at ${new Date(p.start).toISOString()}: add one with POST /v1/rate-cards.`,
      );
    return card;
  }

  return {
    period,

    create(principal: Principal, start: number, end: number): PeriodRecord {
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
      repos.transaction(() => {
        const clash = payouts.overlapping(start, end)[0];
        if (clash)
          throw new ConflictError(
            `The period overlaps ${clash.id} (${new Date(clash.start).toISOString()} – ${new Date(clash.end).toISOString()}).`,
          );
        payouts.createPeriod(id, start, end, at);
        repos.audit.record(
          at,
          actorOf(principal),
          'payout.period_created',
          { type: 'payout_period', id },
          { start, end },
        );
      });
      return period(id);
    },

    compute(principal: Principal, id: string): StatementJson {
      const p = period(id);
      if (p.status === 'locked')
        throw new ConflictError(`Period ${id} is locked; its statement never changes.`);
      flushPresence();
      const at = now();
      const statement = build(p, cardFor({ ...p, rateCardVersion: null }), at, 'computed');
      const hash = statementHash(statement);
      repos.transaction(() => {
        payouts.saveComputed(id, JSON.stringify(statement), hash, statement.rateCardVersion, at);
        repos.audit.record(
          at,
          actorOf(principal),
          'payout.computed',
          { type: 'payout_period', id },
          { hash, total: statement.totals.totalUusd },
        );
      });
      return { ...statement, hash };
    },

    lock(principal: Principal, id: string): StatementJson {
      const p = period(id);
      if (p.status === 'locked') throw new ConflictError(`Period ${id} is already locked.`);
      const at = now();
      if (at < p.end) {
        throw new PeriodNotEndedError(
          `Period ${id} ends at ${new Date(p.end).toISOString()}; it can be locked only after it has ended.`,
        );
      }
      flushPresence();
      const statement = build(p, cardFor({ ...p, rateCardVersion: null }), at, 'locked');
      const hash = statementHash(statement);
      const locked = { ...statement, hash };
      repos.transaction(() => {
        if (
          !payouts.lock(id, JSON.stringify(locked), hash, statement.rateCardVersion, at, principal.tokenId)
        ) {
          throw new ConflictError(`Period ${id} was locked by someone else meanwhile.`);
        }
        repos.audit.record(
          at,
          actorOf(principal),
          'payout.locked',
          { type: 'payout_period', id },
          { hash, total: statement.totals.totalUusd },
        );
      });
      return locked;
    },

    /** Recompute a locked period from the data as it was at lock time; the hash must match. */
    verify(id: string): { hash: string; recomputedHash: string; matches: boolean } {
      const p = period(id);
      if (p.status !== 'locked' || p.lockedAt === null || p.hash === null)
        throw new ConflictError(`Period ${id} is not locked.`);
      const recomputed = statementHash(build(p, cardFor(p), p.lockedAt, 'locked'));
      return { hash: p.hash, recomputedHash: recomputed, matches: recomputed === p.hash };
    },

    /** The stored statement (computed or locked). */
    statement(id: string): StatementJson {
      const p = period(id);
      if (!p.statement)
        throw new ConflictError(
          `Period ${id} has not been computed yet: POST /v1/payout-periods/${id}/compute.`,
        );
      return JSON.parse(p.statement) as StatementJson;
    },

    /** An owner's lines per period: stored where computed or locked, an estimate for open ones. */
    earnings(
      ownerId: string,
      limit: number,
    ): {
      period: PeriodRecord | null;
      start: number;
      end: number;
      statement: StatementJson;
      estimate: boolean;
    }[] {
      const at = now();
      const out = payouts
        .periods()
        .slice(0, limit)
        .map((p) => {
          if (p.status !== 'open' && p.statement) {
            const s = JSON.parse(p.statement) as StatementJson;
            return {
              period: p,
              start: p.start,
              end: p.end,
              statement: { ...s, lines: s.lines.filter((l) => l.ownerId === ownerId) },
              estimate: p.status !== 'locked',
            };
          }
          const card = cardInForce(payouts.rateCards(), p.start);
          if (!card) return undefined;
          const until = Math.max(p.start + MINUTE_MS, Math.min(at - (at % MINUTE_MS), p.end));
          return {
            period: p,
            start: p.start,
            end: p.end,
            statement: build({ id: p.id, start: p.start, end: until }, card, at, 'estimate', ownerId),
            estimate: true,
          };
        });
      return out.filter((e): e is NonNullable<typeof e> => e !== undefined);
    },
  };
}
export type PayoutService = ReturnType<typeof createPayoutService>;
