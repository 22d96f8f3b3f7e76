/**
 * What an audit's outcome does to its node (pure): the new stored state and schedule, the state
 * interval to open (payouts read them), and the event to publish. See docs/audits.md "Server".
 */
import type { AuditPolicy } from '../../protocol/audit-policy.js';
import type { AuditStateInterval, NodeAuditState } from './audit-repository.js';
import {
  JOIN_WAIT_MS,
  type AuditTrigger,
  type StoredAuditState,
  nextRetryAt,
  nextScheduledAt,
  verifiedUntil,
} from './audit-rules.js';

export interface Outcome {
  auditId: string;
  status: 'passed' | 'failed' | 'error';
  at: number;
  /** Ids of the checks that failed (a failed audit). */
  failedChecks: readonly string[];
}

export interface Transition {
  state: NodeAuditState;
  interval: Omit<AuditStateInterval, 'endedAt'> | undefined;
  event: 'audit.failed' | 'audit.passed' | undefined;
}

type Policy = Pick<AuditPolicy, 'intervalHours' | 'graceMinutes' | 'retryMinutes'>;

/** The state of a node approved now that was never audited: first audit once it joined. */
export function firstState(nodeId: string, now: number): NodeAuditState {
  return {
    nodeId,
    state: 'never',
    stateSince: now,
    lastAuditId: null,
    lastPassedAt: null,
    failures: 0,
    nextAuditAt: now + JOIN_WAIT_MS,
    nextTrigger: 'join',
    ownerRequestedAt: null,
    updatedAt: now,
  };
}

export function interval(
  nodeId: string,
  state: StoredAuditState,
  since: number,
  policy: Policy,
  auditId: string | null,
): Omit<AuditStateInterval, 'endedAt'> {
  return { nodeId, state, startedAt: since, verifiedUntil: verifiedUntil(state, since, policy), auditId };
}

const sameChecks = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && [...a].sort().join() === [...b].sort().join();

/**
 * `openInterval`: the state of the node's open interval, or null when it has none (a node
 * approved before audits existed: its first outcome opens one).
 * `previousFailed`: the failed checks of the node's previous finished audit, if it failed.
 */
export function afterOutcome(
  prev: NodeAuditState,
  outcome: Outcome,
  openInterval: StoredAuditState | null,
  previousFailed: readonly string[] | null,
  policy: Policy,
  random: () => number,
): Transition {
  const { at, auditId } = outcome;
  const base = { ...prev, lastAuditId: auditId, updatedAt: at };
  if (outcome.status === 'passed') {
    return {
      state: {
        ...base,
        state: 'passing',
        stateSince: prev.state === 'passing' ? prev.stateSince : at,
        lastPassedAt: at,
        failures: 0,
        nextAuditAt: nextScheduledAt(at, policy, random),
        nextTrigger: 'schedule',
      },
      // Every pass opens its own interval: it keeps the node verified for two intervals from now.
      interval: interval(prev.nodeId, 'passing', at, policy, auditId),
      event: prev.state === 'failing' ? 'audit.passed' : undefined,
    };
  }
  const failures = prev.failures + 1;
  const retry: { nextAuditAt: number; nextTrigger: AuditTrigger } = {
    nextAuditAt: nextRetryAt(at, policy, failures),
    nextTrigger: 'retry',
  };
  if (outcome.status === 'error') {
    // No verdict about the machine: its state stays, and it is asked again on the retry ladder.
    return {
      state: { ...base, lastAuditId: prev.lastAuditId, failures, ...retry },
      interval: openInterval === null ? interval(prev.nodeId, prev.state, at, policy, auditId) : undefined,
      event: undefined,
    };
  }
  const newlyFailing = prev.state !== 'failing';
  return {
    state: { ...base, state: 'failing', stateSince: newlyFailing ? at : prev.stateSince, failures, ...retry },
    // The grace runs from the first failure; later failures do not extend it.
    interval:
      newlyFailing || openInterval === null
        ? interval(prev.nodeId, 'failing', at, policy, auditId)
        : undefined,
    event:
      newlyFailing || previousFailed === null || !sameChecks(previousFailed, outcome.failedChecks)
        ? 'audit.failed'
        : undefined,
  };
}
