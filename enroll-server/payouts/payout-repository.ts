/**
 * Rate cards, payout periods, adjustments, outages and the server's own runs; and, read-only, what
 * a statement is computed from: the nodes of a period, their presence, hardware history and usage.
 */
import type { HardwareFacts } from '../../protocol/hardware.js';
import type { AuditHistory } from './verified-time.js';
import type { UsageAnswers, UsageQueries } from './workload.js';

export interface RateCardRecord {
  version: number;
  effectiveFrom: number;
  rates: Record<string, { availabilityUusdPerGpuHour: string; workloadUusdPerGpuHour: string }>;
  note: string | null;
  createdAt: number;
  createdBy: string | null;
}

export type PeriodStatus = 'open' | 'computed' | 'locked';

export interface PeriodRecord {
  id: string;
  start: number;
  end: number;
  status: PeriodStatus;
  rateCardVersion: number | null;
  statement: string | null;
  hash: string | null;
  createdAt: number;
  computedAt: number | null;
  lockedAt: number | null;
  lockedBy: string | null;
}

export interface AdjustmentRecord {
  id: string;
  nodeId: string;
  ownerId: string;
  amountUusd: string;
  reason: string;
  actor: string;
  createdAt: number;
  periodId: string | null;
}

export interface OutageRecord {
  id: string;
  start: number;
  end: number;
  reason: string;
  createdBy: string | null;
  createdAt: number;
}

/** A presence interval as a statement reads it. */
export interface PresenceSpanRecord {
  startedAt: number;
  lastSeenAt: number;
  endedAt: number | null;
}

/** One node's usage queries, for `usageOf`. */
export interface UsageAsk {
  nodeId: string;
  queries: UsageQueries;
}

export interface PayoutRepository {
  /** The new card's version. */
  addRateCard(card: Omit<RateCardRecord, 'version'>): Promise<number>;
  /** Oldest version first. */
  rateCards(): Promise<RateCardRecord[]>;
  /** A new open period; adjustments waiting for a period and made before its end join it. */
  createPeriod(id: string, start: number, end: number, now: number): Promise<void>;
  overlapping(start: number, end: number): Promise<PeriodRecord[]>;
  period(id: string): Promise<PeriodRecord | undefined>;
  /** Newest first. */
  periods(): Promise<PeriodRecord[]>;
  /** False when the period is locked. */
  saveComputed(
    id: string,
    statement: string,
    hash: string,
    rateCardVersion: number,
    at: number,
  ): Promise<boolean>;
  /** False when it was locked already. */
  lock(
    id: string,
    statement: string,
    hash: string,
    rateCardVersion: number,
    at: number,
    actor: string,
  ): Promise<boolean>;
  /** An adjustment lands in the next period that is not locked (or waits for one to be created). */
  addAdjustment(a: Omit<AdjustmentRecord, 'periodId'>): Promise<AdjustmentRecord>;
  adjustmentsFor(periodId: string): Promise<AdjustmentRecord[]>;
  addOutage(o: OutageRecord): Promise<void>;
  /** Declared outages overlapping [from, to) known at `asOf`. */
  outages(from: number, to: number, asOf: number): Promise<OutageRecord[]>;
  /** A new run of this server process; its id. */
  startRun(now: number): Promise<number>;
  alive(runId: number, now: number): Promise<void>;
  /** Gaps in the union of every server run (replicas included), overlapping [from, to). */
  detectedOutages(from: number, to: number, minGapMs: number): Promise<{ start: number; end: number }[]>;
  /** Nodes a statement for the period has a line for. */
  nodesForPeriod(periodId: string, start: number, end: number): Promise<{ id: string; ownerId: string }[]>;
  /** A node's presence intervals that reach `from` or later, oldest first. */
  presence(nodeId: string, from: number): Promise<PresenceSpanRecord[]>;
  hardwareHistory(nodeId: string): Promise<{ at: number; hardware: HardwareFacts }[]>;
  /** A node's audit state intervals that reach `from` or later and started by `asOf` (verified time). */
  auditHistory(nodeId: string, from: number, asOf: number): Promise<AuditHistory>;
  /** Answers a line's usage queries from the node's reports as known at `asOf`. */
  usage(nodeId: string, asOf: number, queries: UsageQueries): Promise<UsageAnswers>;
  // The same reads for many nodes at once (a statement reads its nodes in batches: a few round
  // trips per batch rather than a few per node). Every id asked for has an entry.
  presenceOf(nodeIds: readonly string[], from: number): Promise<Map<string, PresenceSpanRecord[]>>;
  hardwareHistoryOf(
    nodeIds: readonly string[],
  ): Promise<Map<string, { at: number; hardware: HardwareFacts }[]>>;
  auditHistoryOf(nodeIds: readonly string[], from: number, asOf: number): Promise<Map<string, AuditHistory>>;
  /** The answers in the order of `asks`. */
  usageOf(asks: readonly UsageAsk[], asOf: number): Promise<UsageAnswers[]>;
}
