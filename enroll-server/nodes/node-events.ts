/**
 * Node events, published for whoever must react: status changes (the control channel tells the
 * node) and audit outcomes (notifications tell the owner).
 */
import type { NodeStatus } from '../../protocol/api.js';

export interface NodeStatusEvent {
  nodeId: string;
  status: NodeStatus;
  reason: string | null;
}

/** A check that failed, as the owner is told about it. */
export interface FailedCheckNotice {
  id: string;
  summary: string;
  fix: string;
  docUrl: string;
}

/**
 * `audit.failed`: a node's audit failed where the one before passed (or it had none), or it fails
 * other checks than before; `audit.passed`: a node that was failing passes again.
 */
export interface AuditEvent {
  type: 'audit.failed' | 'audit.passed';
  nodeId: string;
  ownerId: string;
  auditId: string;
  failedChecks: FailedCheckNotice[];
}

export interface NodeEvents {
  emit(event: NodeStatusEvent): void;
  subscribe(listener: (event: NodeStatusEvent) => void): () => void;
  emitAudit(event: AuditEvent): void;
  subscribeAudit(listener: (event: AuditEvent) => void): () => void;
}

function channel<E>(onError: (error: unknown) => void) {
  const listeners = new Set<(event: E) => void>();
  return {
    emit: (event: E) => {
      for (const listener of listeners) {
        try {
          listener(event);
        } catch (error) {
          onError(error);
        }
      }
    },
    subscribe: (listener: (event: E) => void) => {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
  };
}

export function createNodeEvents(onError: (error: unknown) => void): NodeEvents {
  const status = channel<NodeStatusEvent>(onError);
  const audit = channel<AuditEvent>(onError);
  return {
    emit: status.emit,
    subscribe: status.subscribe,
    emitAudit: audit.emit,
    subscribeAudit: audit.subscribe,
  };
}
