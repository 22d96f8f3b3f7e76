/**
 * The control-channel hub: one live session per node over `/v1/control`. It validates every frame
 * against the protocol schemas, keeps presence, stores signed usage reports once, applies hardware
 * snapshots, tells nodes about status changes at once, sends `join`, relays commands and shells.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { WebSocket } from 'ws';
import type { NodeStatus } from '../../protocol/api.js';
import type { AuditRequest } from '../../protocol/audit.js';
import {
  type AgentMessage,
  CLOSE_CODES,
  type CommandName,
  PING_INTERVAL_MS,
  PONG_TIMEOUT_MS,
  type ServerMessage,
} from '../../protocol/control.js';
import type { Policy } from '../../protocol/policy.js';
import type { ActivityLog } from '../core/activity-log.js';
import type { ClusterConfig } from '../core/config.js';
import { isStorageFull } from '../core/error-handler.js';
import { newId } from '../core/ids.js';
import type { Metrics } from '../core/metrics.js';
import type { Transactional } from '../core/transactions.js';
import type { FlagRepository } from '../nodes/flag-repository.js';
import type { NodeEvents, NodeStatusEvent } from '../nodes/node-events.js';
import type { NodeRecord, NodeRepository } from '../nodes/node-repository.js';
import { type FrameResult, readAgentFrame } from './agent-frames.js';
import { type AuditFrameListener, handleAuditFrame, isAuditFrame } from './audit-messages.js';
import { buildJoinMessage } from './join.js';
import { NodeShells, type ShellListener } from './node-shells.js';
import { type JoinResult, recordJoinResult } from './join-results.js';
import type { NetworkRepository } from './network-repository.js';
import { PendingCommands, type CommandOutcome } from './pending-commands.js';
import type { PresenceTracker } from './presence-tracker.js';
import { type SignedReports, createSignedReports } from './signed-reports.js';
import type { UsageRepository } from './usage-repository.js';

const COUNTABLE: readonly NodeStatus[] = ['approved', 'active'];
const ABUSE_LIMIT = 10;

interface Session {
  id: string;
  nodeId: string;
  /** The status the node was last told (welcome or a status push). */
  status: NodeStatus;
  socket: WebSocket;
  lastHeardAt: number;
  bye: boolean;
  badFrames: number;
  shellEnabled: boolean;
}

export interface HubDeps {
  policy: Policy;
  cluster: ClusterConfig;
  repos: Transactional<{
    nodes: NodeRepository;
    flags: FlagRepository;
    network: NetworkRepository;
    usage: UsageRepository;
    activity: ActivityLog;
  }>;
  presence: PresenceTracker;
  events: NodeEvents;
  metrics: Metrics;
  now: () => number;
  log: FastifyBaseLogger;
}

export class ControlHub {
  private readonly sessions = new Map<string, Session>();
  private readonly commands = new PendingCommands();
  /** Remote shells open on the nodes (the shell relay talks to them through this). */
  readonly shells = new NodeShells((nodeId, message) => {
    const session = this.sessions.get(nodeId);
    if (session) this.send(session, message);
  });
  private readonly reports: SignedReports;
  private readonly pingTimer: NodeJS.Timeout;
  private readonly flushTimer: NodeJS.Timeout;
  private readonly unsubscribe: () => void;
  /** Continuous audits (set by app.ts): audit frames and the session events they follow. */
  private audits: AuditFrameListener | undefined;

  constructor(private readonly deps: HubDeps) {
    this.reports = createSignedReports({
      repos: deps.repos,
      now: deps.now,
      events: deps.events,
      onStored: () => deps.metrics.usageReports.inc(),
    });
    this.pingTimer = setInterval(() => this.pingAll(), PING_INTERVAL_MS);
    this.flushTimer = setInterval(() => void this.flushPresence(), 5_000);
    this.pingTimer.unref();
    this.flushTimer.unref();
    this.unsubscribe = deps.events.subscribe((event) => this.onStatus(event));
  }

  get connected(): number {
    return this.sessions.size;
  }

  isConnected(nodeId: string): boolean {
    return this.sessions.has(nodeId);
  }

  onAudits(listener: AuditFrameListener): void {
    this.audits = listener;
  }

  /** Ask a live node to run an audit; false when it is not connected. */
  sendAudit(nodeId: string, request: AuditRequest): boolean {
    const session = this.sessions.get(nodeId);
    if (!session || session.socket.readyState !== session.socket.OPEN) return false;
    this.send(session, request);
    return true;
  }

  shellEnabled(nodeId: string): boolean {
    return this.sessions.get(nodeId)?.shellEnabled ?? false;
  }

  /**
   * A node authenticated and upgraded: start its session. Synchronous, so that no frame, pong or
   * status change is missed; `node` is the record read when its token was checked, and a change
   * committed since then is caught by `recheck`.
   */
  attach(node: NodeRecord, socket: WebSocket): void {
    const nodeId = node.id;
    const previous = this.sessions.get(nodeId);
    if (previous) {
      this.background(
        this.deps.repos.flags.add(
          nodeId,
          'duplicate-session',
          'A second live session opened for this node; the older one was closed.',
          {},
          this.deps.now(),
        ),
        nodeId,
      );
      previous.socket.close(CLOSE_CODES.REPLACED, 'replaced by a newer session');
      this.end(previous, 'replaced', true);
    }
    const session: Session = {
      id: newId('ses'),
      nodeId,
      status: node.status,
      socket,
      lastHeardAt: this.deps.now(),
      bye: false,
      badFrames: 0,
      shellEnabled: false,
    };
    this.sessions.set(nodeId, session);
    this.deps.presence.connect(nodeId, session.id, null, COUNTABLE.includes(node.status));
    this.deps.metrics.controlConnects.inc();
    socket.on('pong', () => {
      session.lastHeardAt = this.deps.now();
      this.deps.presence.seen(nodeId);
    });
    socket.on('message', (data, isBinary) => {
      void this.onFrame(session, readAgentFrame(data, isBinary)).catch((error: unknown) => {
        this.deps.log.error({ err: error, nodeId }, 'control frame handling failed');
      });
    });
    socket.on('close', () => this.end(session, session.bye ? 'bye' : 'disconnected', session.bye));
    socket.on('error', (error) => this.deps.log.warn({ err: error, nodeId }, 'control socket error'));
    this.send(session, {
      type: 'welcome',
      nodeId,
      status: node.status,
      reason: node.statusReason,
      policy: this.deps.policy,
      serverTime: new Date(this.deps.now()).toISOString(),
    });
    if (COUNTABLE.includes(node.status)) this.background(this.sendJoin(session), nodeId);
    this.background(this.recheck(session), nodeId);
    this.audits?.connected(nodeId);
  }

  /** A status committed between the token check and `attach` reaches the node as a push. */
  private async recheck(session: Session): Promise<void> {
    const told = session.status;
    const node = await this.deps.repos.nodes.get(session.nodeId);
    // A status event since then already told the node something newer.
    if (!node || session.status !== told || node.status === told) return;
    this.onStatus({ nodeId: node.id, status: node.status, reason: node.statusReason });
  }

  /** Work the frame or event path does not wait for: its failure is logged. */
  private background(work: Promise<unknown>, nodeId: string): void {
    work.catch((error: unknown) =>
      this.deps.log.error({ err: error, nodeId }, 'control channel work failed'),
    );
  }

  /** Send a command to a live node and wait for its result. */
  async runCommand(
    nodeId: string,
    id: string,
    name: CommandName,
    args: Record<string, unknown>,
    timeoutMs: number,
  ): Promise<CommandOutcome> {
    const session = this.sessions.get(nodeId);
    if (!session) return { ok: false, error: 'The node is offline.' };
    const outcome = this.commands.wait(id, nodeId, timeoutMs);
    this.send(session, { type: 'command', id, name, args });
    return outcome;
  }

  /** Open a shell on the node, if it allows remote shells; the listener receives its output and its end. */
  openShell(nodeId: string, sessionId: string, cols: number, rows: number, listener: ShellListener): boolean {
    if (!this.sessions.get(nodeId)?.shellEnabled) return false;
    this.shells.open(nodeId, sessionId, cols, rows, listener);
    return true;
  }

  async flushPresence(): Promise<void> {
    try {
      await this.deps.presence.flush();
    } catch (error) {
      this.deps.log.error({ err: error }, 'presence flush failed');
    }
  }

  /** Server shutdown: close every session cleanly and write presence. */
  async close(): Promise<void> {
    clearInterval(this.pingTimer);
    clearInterval(this.flushTimer);
    this.unsubscribe();
    this.commands.failAll('The server is shutting down.');
    for (const session of [...this.sessions.values()]) {
      session.socket.close(CLOSE_CODES.SERVER_SHUTDOWN, 'server shutting down');
      this.end(session, 'server-shutdown', true);
    }
    await this.deps.presence.closeAll('server-shutdown');
  }

  private end(session: Session, reason: string, clean: boolean): void {
    if (this.sessions.get(session.nodeId) !== session) return;
    this.sessions.delete(session.nodeId);
    this.deps.presence.disconnect(session.nodeId, session.id, reason, clean);
    this.commands.failNode(session.nodeId, 'The node disconnected before answering.');
    this.shells.endAll(session.nodeId, `The node disconnected (${reason}).`);
    this.audits?.disconnected(session.nodeId);
  }

  private send(session: Session, message: ServerMessage): void {
    if (session.socket.readyState === session.socket.OPEN) session.socket.send(JSON.stringify(message));
  }

  private async sendJoin(session: Session): Promise<void> {
    const node = await this.deps.repos.nodes.get(session.nodeId);
    if (!node) return;
    const network = await this.deps.repos.network.ensure(node.id, this.deps.now());
    this.send(session, buildJoinMessage(this.deps.cluster, node, network));
  }

  private refuse(session: Session, code: string, message: string): void {
    session.badFrames += 1;
    this.deps.metrics.controlMessages.inc({ type: 'invalid' });
    this.send(session, { type: 'error', code, message });
    if (session.badFrames >= ABUSE_LIMIT) session.socket.close(CLOSE_CODES.ABUSE, 'too many invalid frames');
  }

  private async onFrame(session: Session, frame: FrameResult): Promise<void> {
    // Any frame proves the connection alive, as a pong does.
    session.lastHeardAt = this.deps.now();
    this.deps.presence.seen(session.nodeId);
    if (!frame.ok) return this.refuse(session, frame.code, frame.message);
    this.deps.metrics.controlMessages.inc({ type: frame.message.type });
    await this.dispatch(session, frame.message);
  }

  private async dispatch(session: Session, message: AgentMessage): Promise<void> {
    const { nodeId } = session;
    if (isAuditFrame(message)) {
      const refusal = await handleAuditFrame(this.audits, nodeId, message);
      if (refusal) this.refuse(session, 'AUDIT_REPORT_REFUSED', refusal);
      return;
    }
    switch (message.type) {
      case 'hello':
        session.shellEnabled = message.shellEnabled !== false;
        return;
      case 'heartbeat':
        this.deps.presence.heartbeat(nodeId, message.metrics);
        return;
      case 'usage': {
        let result;
        try {
          result = await this.reports.usage(nodeId, message.seq, message.report);
        } catch (error) {
          if (!isStorageFull(error)) throw error;
          // Not the node's fault and not acked: it keeps the report and sends it again.
          this.send(session, {
            type: 'error',
            code: 'STORAGE_FULL',
            message: `Usage report ${message.seq} could not be stored (server storage full); send it again later.`,
          });
          return;
        }
        if (result.ok) this.send(session, { type: 'ack', seq: message.seq });
        else this.refuse(session, 'USAGE_REFUSED', result.error);
        return;
      }
      case 'hardware': {
        const result = await this.reports.hardware(nodeId, message.snapshot);
        if (!result.ok) this.refuse(session, 'HARDWARE_REFUSED', result.error);
        else if (result.snapshotChanged) this.audits?.hardwareChanged(nodeId);
        return;
      }
      case 'result':
        this.commands.settle(message.id, nodeId, {
          ok: message.ok,
          output: message.output,
          error: message.error,
        });
        return;
      case 'join-result':
        return this.onJoinResult(session, message);
      case 'bye':
        session.bye = true;
        this.end(session, 'bye', true);
        return;
      case 'shell-data':
        this.shells.output(nodeId, message.sessionId, message.data);
        return;
      case 'shell-close':
        this.shells.closedByNode(nodeId, message.sessionId, message.reason, message.exitCode);
        return;
    }
  }

  private async onJoinResult(session: Session, result: JoinResult): Promise<void> {
    const node = await recordJoinResult(this.deps.repos, session.nodeId, result, this.deps.now());
    if (node && session.status === 'approved' && node.status === 'active') this.audits?.joined(node.id);
    if (node) {
      session.status = node.status;
      this.send(session, { type: 'status', status: node.status, reason: node.statusReason });
    }
  }

  private onStatus(event: NodeStatusEvent): void {
    const session = this.sessions.get(event.nodeId);
    this.deps.presence.setCountable(event.nodeId, COUNTABLE.includes(event.status));
    if (!session) return;
    session.status = event.status;
    this.send(session, { type: 'status', status: event.status, reason: event.reason });
    if (event.status === 'approved') this.background(this.sendJoin(session), session.nodeId);
    if (event.status === 'revoked' || event.status === 'rejected') {
      session.socket.close(CLOSE_CODES.NODE_REFUSED, event.status);
      this.end(session, event.status, true);
    }
  }

  private pingAll(): void {
    const now = this.deps.now();
    for (const session of this.sessions.values()) {
      if (now - session.lastHeardAt > PONG_TIMEOUT_MS) {
        session.socket.terminate();
        this.end(session, 'pong-timeout', false);
        continue;
      }
      session.socket.ping();
    }
  }
}
