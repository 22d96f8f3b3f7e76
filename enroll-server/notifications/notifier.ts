/**
 * The entry point other capabilities call when something happened outside a transaction of their
 * own: `notify({ type: 'audit.failed', nodeId, ownerId, auditId, failedChecks })`. Inside a
 * transaction, append to `tx.events` instead, so the event commits with the change.
 */
import type { DomainEvent, EventOutbox } from '../core/domain-events.js';

export interface Notifier {
  notify(event: DomainEvent): Promise<string>;
}

export function createNotifier(deps: { events: EventOutbox; now: () => number }): Notifier {
  return { notify: (event) => deps.events.append(deps.now(), event) };
}
