/**
 * Audits: each audit with its verified checks, each node's audit state and schedule, and the
 * audit state history as intervals (payouts read it). The queue behind the fleet-wide cap lives
 * here too, so that it holds across restarts and replicas.
 */
import type { AuditCheck, AuditSkip } from '../../protocol/audit.js';
import type { HardwareFacts } from '../../protocol/hardware.js';
import type { AuditStatus, AuditTrigger, StoredAuditState } from './audit-rules.js';

export interface AuditRecord {
  id: string;
  nodeId: string;
  trigger: AuditTrigger;
  status: AuditStatus;
  priority: number;
  requestedAt: number;
  /** The token of the person who asked (ops or the owner); null for the server's own schedule. */
  requestedBy: string | null;
  notBefore: number;
  startedAt: number | null;
  deadlineAt: number | null;
  finishedAt: number | null;
  checks: AuditCheck[] | null;
  skipped: AuditSkip[] | null;
  agentVersion: string | null;
  /** Why an audit ended as `error` (no report, a refused report, the suite broke). */
  error: string | null;
  diagnosticsId: string | null;
}

export type NewAudit = Pick<
  AuditRecord,
  'id' | 'nodeId' | 'trigger' | 'priority' | 'requestedAt' | 'requestedBy' | 'notBefore'
>;

export interface AuditOutcome {
  status: 'passed' | 'failed' | 'error';
  finishedAt: number;
  checks?: AuditCheck[];
  skipped?: AuditSkip[];
  agentVersion?: string;
  error?: string;
}

export interface NodeAuditState {
  nodeId: string;
  state: StoredAuditState;
  stateSince: number;
  lastAuditId: string | null;
  lastPassedAt: number | null;
  failures: number;
  nextAuditAt: number | null;
  nextTrigger: AuditTrigger | null;
  ownerRequestedAt: number | null;
  updatedAt: number;
}

export interface AuditStateInterval {
  nodeId: string;
  state: StoredAuditState;
  startedAt: number;
  endedAt: number | null;
  verifiedUntil: number;
  auditId: string | null;
}

/** One failing check across the fleet: how many failing nodes fail it, and with which summaries. */
export interface FailingCheckCount {
  checkId: string;
  summary: string;
  nodes: number;
}

export interface AuditRepository {
  // ---- node state and schedule ----
  state(nodeId: string): Promise<NodeAuditState | undefined>;
  states(nodeIds: readonly string[]): Promise<NodeAuditState[]>;
  /** Insert or replace the whole row. */
  saveState(state: NodeAuditState): Promise<void>;
  /** Approved or active nodes without a state row (approved before audits existed), oldest first. */
  nodesWithoutState(limit: number): Promise<string[]>;
  /** Node ids whose stored state is one of `states`; with `passed`, the last pass at or before `before` / after `since`. */
  nodeIdsInState(
    states: readonly StoredAuditState[],
    passed?: { before?: number; since?: number },
  ): Promise<string[]>;
  stateCounts(
    staleBefore: number,
  ): Promise<{ never: number; passing: number; failing: number; stale: number }>;

  // ---- the state history ----
  /** End the open interval at `interval.startedAt` (if any) and open this one. */
  startInterval(interval: Omit<AuditStateInterval, 'endedAt'>): Promise<void>;
  /** A node's intervals that end at or after `from` (or are open) and started by `asOf`, oldest first. */
  intervals(nodeId: string, from: number, asOf: number): Promise<AuditStateInterval[]>;

  // ---- audits ----
  create(audit: NewAudit): Promise<void>;
  get(id: string): Promise<AuditRecord | undefined>;
  /** Newest first. */
  forNode(nodeId: string, limit: number, offset: number): Promise<{ audits: AuditRecord[]; total: number }>;
  /** The queued and running audits of these nodes, oldest first. */
  openFor(nodeIds: readonly string[]): Promise<AuditRecord[]>;
  /** Nodes due by `now` (approved or active, nothing queued or running), the most overdue first. */
  due(now: number, limit: number, offset: number): Promise<{ nodeId: string; trigger: AuditTrigger }[]>;
  /** Queued audits that may start now, by priority then age, of approved nodes with nothing running. */
  startable(now: number, limit: number, offset: number): Promise<{ id: string; nodeId: string }[]>;
  countRunning(): Promise<number>;
  countQueued(): Promise<number>;
  /** queued → running, only while fewer than `cap` run; false when another took the slot or the audit. */
  start(id: string, startedAt: number, deadlineAt: number, cap: number): Promise<boolean>;
  /** running → queued again (the node was gone, or busy), not before `notBefore`. */
  requeue(id: string, notBefore: number): Promise<boolean>;
  /** running (or queued) → passed | failed | error; false when it had already ended. */
  finish(id: string, outcome: AuditOutcome): Promise<boolean>;
  /** Running audits whose report is overdue at `now`. */
  overdue(now: number): Promise<AuditRecord[]>;
  setDiagnostics(id: string, commandId: string): Promise<void>;
  /** Drop details and fixes of a node's finished audits beyond the newest `keep` (figures stay). */
  compact(nodeId: string, keep: number): Promise<void>;
  /** The fail-status checks of the last audits of failing nodes, counted by check and summary. */
  failingChecks(): Promise<FailingCheckCount[]>;

  /** The hardware in force when the node was last approved (its enrollment's when never approved). */
  approvedHardware(nodeId: string): Promise<HardwareFacts | undefined>;
}
