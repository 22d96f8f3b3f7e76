/**
 * What the hub does with each valid, budgeted frame from a node: presence, signed reports stored
 * and acked, command results, join results (only in answer to a `join`), shell frames, `bye`.
 */
import { type AgentMessage, CLOSE_CODES } from '../../protocol/control.js';
import { type AuditFrameListener, handleAuditFrame, isAuditFrame } from './audit-messages.js';
import { isStorageFull } from '../core/error-handler.js';
import type { ActivityLog } from '../core/activity-log.js';
import type { Transactional } from '../core/transactions.js';
import type { FlagRepository } from '../nodes/flag-repository.js';
import type { NodeRepository } from '../nodes/node-repository.js';
import type { ControlSession } from './control-session.js';
import { recordJoinResult } from './join-results.js';
import type { NetworkRepository } from '../network/network-repository.js';
import type { NodeShells } from './node-shells.js';
import type { PendingCommands } from './pending-commands.js';
import type { PresenceTracker } from './presence-tracker.js';
import type { SessionObserver } from './session-observer.js';
import type { SignedReports } from './signed-reports.js';
import type { UpdateFrameListener } from './update-messages.js';

/** What handling a message needs of the hub (`ControlHub` is one). */
export interface MessageHub {
  readonly deps: {
    presence: PresenceTracker;
    /** Told about every session (the replica registry). */
    observer?: SessionObserver;
    repos: Transactional<{
      nodes: NodeRepository;
      flags: FlagRepository;
      network: NetworkRepository;
      activity: ActivityLog;
    }>;
    now: () => number;
  };
  readonly reports: SignedReports;
  readonly commands: PendingCommands;
  readonly shells: NodeShells;
  /** Continuous audits: audit frames and the session events they follow (none: frames ignored). */
  readonly audits: AuditFrameListener | undefined;
  /** Agent rollouts: hellos and update states (none: ignored). */
  readonly updates: UpdateFrameListener | undefined;
  refuse(session: ControlSession, code: string, message: string, seq?: number): void;
  end(session: ControlSession, reason: string, clean: boolean, code?: number, closeReason?: string): void;
}

export async function handleAgentMessage(
  hub: MessageHub,
  session: ControlSession,
  message: AgentMessage,
): Promise<void> {
  const { nodeId } = session;
  const { deps } = hub;
  if (isAuditFrame(message)) {
    const refusal = await handleAuditFrame(hub.audits, nodeId, message);
    if (refusal) hub.refuse(session, 'AUDIT_REPORT_REFUSED', refusal);
    return;
  }
  switch (message.type) {
    case 'hello':
      session.shellEnabled = message.shellEnabled !== false;
      deps.presence.setShellEnabled(nodeId, session.shellEnabled);
      deps.observer?.hello(nodeId, session.id, session.shellEnabled);
      hub.updates?.hello(nodeId, message.agentVersion);
      return;
    case 'heartbeat':
      deps.presence.heartbeat(nodeId, message.metrics);
      return;
    case 'usage':
      return onUsage(hub, session, message);
    case 'hardware': {
      const result = await hub.reports.hardware(nodeId, message.snapshot);
      if (!result.ok) hub.refuse(session, 'HARDWARE_REFUSED', result.error);
      else if (result.snapshotChanged) hub.audits?.hardwareChanged(nodeId);
      return;
    }
    case 'result':
      hub.commands.settle(message.id, nodeId, {
        ok: message.ok,
        output: message.output,
        error: message.error,
      });
      return;
    case 'join-result': {
      // Only an answer to a join this session was sent counts, one failure per join sent; anything
      // else is noise. After a failure the agent tries the same join again by itself: its success
      // still counts, so a fixed artifact makes the node active without a reconnect.
      const retried = message.ok && session.joinFailed;
      if (session.joinsOutstanding === 0 && !retried) return;
      if (session.joinsOutstanding > 0) session.joinsOutstanding -= 1;
      const outcome = await recordJoinResult(deps.repos, nodeId, message, deps.now());
      session.joinFailed = outcome.kind === 'failed' && !retried;
      if (outcome.kind === 'key-taken') {
        session.send({ type: 'error', code: 'WIREGUARD_KEY_TAKEN', message: outcome.message });
      } else if (outcome.kind === 'joined' && outcome.node) {
        if (session.status === 'approved' && outcome.node.status === 'active') hub.audits?.joined(nodeId);
        session.status = outcome.node.status;
        session.send({ type: 'status', status: outcome.node.status, reason: outcome.node.statusReason });
      }
      return;
    }
    case 'bye':
      session.bye = true;
      hub.end(session, 'bye', true, CLOSE_CODES.NORMAL, 'bye');
      return;
    case 'shell-opened':
      hub.shells.opened(nodeId, message.sessionId);
      return;
    case 'shell-data':
      hub.shells.output(nodeId, message.sessionId, message.data);
      return;
    case 'shell-close':
      hub.shells.closedByNode(nodeId, message.sessionId, message.reason, message.exitCode);
      return;
    case 'update-status':
      await hub.updates?.status(nodeId, message);
      return;
  }
}

async function onUsage(
  hub: MessageHub,
  session: ControlSession,
  message: Extract<AgentMessage, { type: 'usage' }>,
): Promise<void> {
  let result;
  try {
    result = await hub.reports.usage(session.nodeId, message.seq, message.report);
  } catch (error) {
    if (!isStorageFull(error)) throw error;
    // Not the node's fault and not acked: it keeps the report and sends it again.
    session.send({
      type: 'error',
      code: 'STORAGE_FULL',
      message: `Usage report ${message.seq} could not be stored (server storage full); send it again later.`,
      seq: message.seq,
    });
    return;
  }
  // A refusal names the seq, so the agent drops that report instead of sending it again.
  if (result.ok) session.send({ type: 'ack', seq: message.seq });
  else hub.refuse(session, result.code, result.error, message.seq);
}
