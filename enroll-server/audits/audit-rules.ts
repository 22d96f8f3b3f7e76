/**
 * The schedule of continuous audits as pure rules (DESIGN.md "Continuous audits"): when a node is
 * audited next, what its state is at a moment, how long a state keeps the node verified for
 * payouts, and when an owner may ask again. The clock and the randomness are passed in.
 */
import { type AuditPolicy, retryDelayMinutes } from '../../protocol/audit-policy.js';

export const AUDIT_TRIGGERS = ['join', 'schedule', 'retry', 'hardware', 'ops', 'owner'] as const;
export type AuditTrigger = (typeof AUDIT_TRIGGERS)[number];

export const AUDIT_STATUSES = ['queued', 'running', 'passed', 'failed', 'error'] as const;
export type AuditStatus = (typeof AUDIT_STATUSES)[number];

/** What is stored; `stale` is derived from the time of the last pass. */
export const STORED_AUDIT_STATES = ['never', 'passing', 'failing'] as const;
export type StoredAuditState = (typeof STORED_AUDIT_STATES)[number];

export const AUDIT_STATES = ['never', 'passing', 'failing', 'stale'] as const;
export type AuditState = (typeof AUDIT_STATES)[number];

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

/** An owner's "check again" is accepted at most once per node in this long. */
export const OWNER_COOLDOWN_MS = 10 * MINUTE_MS;
/** The first audit waits this long for the join to finish before it runs anyway. */
export const JOIN_WAIT_MS = 15 * MINUTE_MS;
/** A node that answered "busy" is asked again after this long. */
export const BUSY_RETRY_MS = 2 * MINUTE_MS;
/** Beyond the suite's own bound (`limits.maxSeconds`), how long the server waits for the report. */
export const REPORT_GRACE_MS = 2 * MINUTE_MS;
/** Scheduled audits are spread by up to this fraction of the interval either way. */
export const SCHEDULE_JITTER = 0.1;

/**
 * Lower runs first when slots are scarce: a person waiting (ops, the owner), then what a change
 * asks for (a join, new hardware), then re-audits of failures, then the routine schedule.
 */
export const TRIGGER_PRIORITY: Readonly<Record<AuditTrigger, number>> = {
  ops: 0,
  owner: 0,
  join: 1,
  hardware: 1,
  retry: 2,
  schedule: 3,
};

/** The routine audit after a pass: the interval, moved by up to ±10 % so that a fleet spreads out. */
export function nextScheduledAt(
  passedAt: number,
  policy: Pick<AuditPolicy, 'intervalHours'>,
  random: () => number,
): number {
  const interval = policy.intervalHours * HOUR_MS;
  const jitter = (random() * 2 - 1) * SCHEDULE_JITTER * interval;
  return Math.round(passedAt + interval + jitter);
}

/** The re-audit after `failures` consecutive failed (or unanswered) audits: the retry ladder. */
export function nextRetryAt(
  finishedAt: number,
  policy: Pick<AuditPolicy, 'retryMinutes'>,
  failures: number,
): number {
  return finishedAt + retryDelayMinutes(policy, failures) * MINUTE_MS;
}

/** When the server gives up waiting for a report of an audit started at `startedAt`. */
export function reportDeadline(startedAt: number, policy: Pick<AuditPolicy, 'limits'>): number {
  return startedAt + policy.limits.maxSeconds * 1000 + REPORT_GRACE_MS;
}

/** A passing node goes stale when it has not passed for twice the interval. */
export function staleAfterMs(policy: Pick<AuditPolicy, 'intervalHours'>): number {
  return 2 * policy.intervalHours * HOUR_MS;
}

/** The state people see: `passing` turns `stale` once the last pass is too old. */
export function auditStateAt(
  stored: StoredAuditState,
  lastPassedAt: number | null,
  now: number,
  policy: Pick<AuditPolicy, 'intervalHours'>,
): AuditState {
  if (stored !== 'passing') return stored;
  if (lastPassedAt === null || now - lastPassedAt >= staleAfterMs(policy)) return 'stale';
  return 'passing';
}

/**
 * Until when a state that began at `since` keeps the node verified for payouts: a pass for twice
 * the interval (then it is stale), a failure or a node never audited for the grace period.
 */
export function verifiedUntil(
  state: StoredAuditState,
  since: number,
  policy: Pick<AuditPolicy, 'intervalHours' | 'graceMinutes'>,
): number {
  return state === 'passing' ? since + staleAfterMs(policy) : since + policy.graceMinutes * MINUTE_MS;
}

/** When the owner may press "check again" next; null when they may now. */
export function ownerRetryAt(ownerRequestedAt: number | null, now: number): number | null {
  if (ownerRequestedAt === null) return null;
  const at = ownerRequestedAt + OWNER_COOLDOWN_MS;
  return at > now ? at : null;
}

/** `Retry-After` in whole seconds, at least 1. */
export function retryAfterSeconds(at: number, now: number): number {
  return Math.max(1, Math.ceil((at - now) / 1000));
}

/** "9 minutes", "45 seconds": how long someone has to wait, for messages. */
export function waitText(ms: number): string {
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  if (seconds < 60) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}
