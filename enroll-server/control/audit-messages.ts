/**
 * Audit frames on the control channel (protocol/audit.ts): the hub hands them, and the session
 * events audits care about, to whoever runs audits. The audits capability implements the listener
 * and `app.ts` wires it in, so that control does not depend on audits.
 */
import type { AgentMessage } from '../../protocol/control.js';

type AuditFrame = Extract<AgentMessage, { type: 'audit-report' | 'audit-progress' | 'audit-error' }>;

export interface AuditFrameListener {
  /** A signed report; the error to answer with when it is refused (bad signature, not valid). */
  report(nodeId: string, auditId: string, jws: string): Promise<string | undefined>;
  progress(nodeId: string, message: Extract<AuditFrame, { type: 'audit-progress' }>): void;
  /** The node will not send a report for this audit (busy, or the suite broke). */
  refused(nodeId: string, message: Extract<AuditFrame, { type: 'audit-error' }>): Promise<void>;
  /** A session started or ended, the node joined the cluster, its hardware snapshot changed. */
  connected(nodeId: string): void;
  disconnected(nodeId: string): void;
  joined(nodeId: string): void;
  hardwareChanged(nodeId: string): void;
}

export function isAuditFrame(message: AgentMessage): message is AuditFrame {
  return (
    message.type === 'audit-report' || message.type === 'audit-progress' || message.type === 'audit-error'
  );
}

/** Hand one audit frame over; the error to refuse the frame with, if any. */
export async function handleAuditFrame(
  listener: AuditFrameListener | undefined,
  nodeId: string,
  message: AuditFrame,
): Promise<string | undefined> {
  if (!listener) return undefined;
  switch (message.type) {
    case 'audit-report':
      return listener.report(nodeId, message.auditId, message.jws);
    case 'audit-progress':
      listener.progress(nodeId, message);
      return undefined;
    case 'audit-error':
      await listener.refused(nodeId, message);
      return undefined;
  }
}
