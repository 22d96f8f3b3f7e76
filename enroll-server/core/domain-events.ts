/**
 * Domain events: what happened, appended in the same transaction as the change it describes, so
 * that an event exists exactly when its change committed. The notifications capability reads them
 * afterwards and turns each into mails and webhook deliveries, once (docs/accounts.md).
 *
 * Inside a transaction: `await tx.events.append(at, { type: 'node.approved', … })`. Outside one,
 * `notifications/notifier.ts` offers `notify(event)`.
 */

/** The webhook events of DESIGN.md "Owner accounts and notifications", in its order. */
export const WEBHOOK_EVENTS = [
  'node.enrolled',
  'node.approved',
  'node.rejected',
  'node.revoked',
  'node.offline',
  'node.online',
  'audit.failed',
  'audit.passed',
  'statement.locked',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];

/** A check an audit failed, as the owner is told about it. */
export interface FailedCheck {
  id: string;
  summary: string;
  fix: string;
  docUrl: string;
}

/** An owner's part of a locked statement. */
export interface StatementShare {
  ownerId: string;
  totalUusd: string;
  nodeIds: string[];
}

export type NodeEvent =
  | { type: 'node.enrolled'; nodeId: string; ownerId: string; status: string }
  | { type: 'node.approved'; nodeId: string; ownerId: string; note: string | null }
  | { type: 'node.rejected'; nodeId: string; ownerId: string; reason: string }
  | { type: 'node.revoked'; nodeId: string; ownerId: string; reason: string }
  /** Offline longer than the owner's threshold; `since` is the last sign of life (ms). */
  | { type: 'node.offline'; nodeId: string; ownerId: string; since: number }
  | { type: 'node.online'; nodeId: string; ownerId: string; offlineSince: number; backAt: number };

export type AuditEvent =
  | { type: 'audit.failed'; nodeId: string; ownerId: string; auditId: string; failedChecks: FailedCheck[] }
  | { type: 'audit.passed'; nodeId: string; ownerId: string; auditId: string };

export interface StatementLockedEvent {
  type: 'statement.locked';
  periodId: string;
  start: number;
  end: number;
  hash: string;
  totalUusd: string;
  owners: StatementShare[];
}

/** Mails about the account itself: sent on the person's own request, never turned off. */
export type AccountEvent =
  | { type: 'account.verify-email'; ownerId: string; tokenId: string }
  | { type: 'account.password-reset'; ownerId: string; tokenId: string }
  | { type: 'account.password-changed'; ownerId: string }
  | { type: 'account.welcome'; ownerId: string };

/** For the operations team (HOMENODE_OPS_EMAIL). */
export type OpsEvent =
  | { type: 'ops.pending-waiting'; nodes: { nodeId: string; ownerId: string; since: number }[] }
  | { type: 'ops.nodes-dropped'; count: number; windowMinutes: number; nodeIds: string[] };

export type DomainEvent = NodeEvent | AuditEvent | StatementLockedEvent | AccountEvent | OpsEvent;
export type DomainEventType = DomainEvent['type'];

export function isWebhookEvent(type: string): type is WebhookEventType {
  return (WEBHOOK_EVENTS as readonly string[]).includes(type);
}

/** Where domain events are appended (a repository: inside a transaction, use the `tx` one). */
export interface EventOutbox {
  /** Appends the event; returns its id (`evt_…`). */
  append(at: number, event: DomainEvent): Promise<string>;
}
