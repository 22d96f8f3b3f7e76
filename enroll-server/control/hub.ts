/**
 * The control-channel hub: one live session per node over `/v1/control`. It keeps presence, tells
 * nodes about status changes at once, sends `join`, relays commands and shells, and ends sessions:
 * after `bye`, a revoke or reject, a newer session of the node, repeated abuse or a server shutdown
 * a session processes nothing more and its socket is closed (docs/control-channel.md).
 * Frames are read and budgeted here and handled in `agent-messages.ts`.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { WebSocket } from 'ws';
import type { NodeStatus } from '../../protocol/api.js';
import type { AuditRequest } from '../../protocol/audit.js';
import { CLOSE_CODES, type CommandName } from '../../protocol/control.js';
import type { Policy } from '../../protocol/policy.js';
import type { UpdateMessage } from '../../protocol/update.js';
import type { ActivityLog } from '../core/activity-log.js';
import { type ClusterConfig, type ControlLimits, DEFAULT_CONTROL_LIMITS } from '../core/config.js';
import { newId } from '../core/ids.js';
import type { Metrics } from '../core/metrics.js';
import type { Transactional } from '../core/transactions.js';
import type { FlagRepository } from '../nodes/flag-repository.js';
import type { NodeEvents, NodeStatusEvent } from '../nodes/node-events.js';
import type { NodeRecord, NodeRepository } from '../nodes/node-repository.js';
import { type FrameResult, readAgentFrame } from './agent-frames.js';
import { handleAgentMessage } from './agent-messages.js';
import type { AuditFrameListener } from './audit-messages.js';
import { ControlSession } from './control-session.js';
import { FrameBudgets } from './frame-budgets.js';
import { type JoinSoftwareSource, buildJoinMessage } from './join.js';
import type { NetworkRepository } from '../network/network-repository.js';
import { NodeShells, type ShellListener } from './node-shells.js';
import { PendingCommands, type CommandOutcome } from './pending-commands.js';
import type { PresenceTracker } from './presence-tracker.js';
import type { SessionObserver } from './session-observer.js';
import { type SignedReports, createSignedReports } from './signed-reports.js';
import type { UsageRepository } from './usage-repository.js';
import type { UpdateFrameListener } from './update-messages.js';

export const COUNTABLE: readonly NodeStatus[] = ['approved', 'active'];
/** Refused frames (invalid, or over the node's budget) a session may send before it is closed. */
export const ABUSE_LIMIT = 10;

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
  limits?: ControlLimits;
  /** Told about every session (the replica registry). */
  observer?: SessionObserver;
  /** The software each join names (k3s, runtime packages); none when not given. */
  joinSoftware?: JoinSoftwareSource;
}

/** Ticks per ping interval (one slice of the sessions is pinged at each). */
export const PING_SLICES = 15;

export class ControlHub {
  private readonly sessions = new Map<string, ControlSession>();
  readonly commands = new PendingCommands();
  /** Remote shells open on the nodes (the shell relay talks to them through this). */
  readonly shells = new NodeShells((nodeId, message) => this.sessions.get(nodeId)?.send(message));
  readonly reports: SignedReports;
  private readonly budgets: FrameBudgets;
  private readonly limits: ControlLimits;
  private readonly pingTimer: NodeJS.Timeout;
  private pingTick = 0;
  private nextPingSlot = 0;
  private readonly flushTimer: NodeJS.Timeout;
  private flushing = false;
  private readonly unsubscribe: () => void;
  /** Continuous audits (set by app.ts): audit frames and the session events they follow. */
  audits: AuditFrameListener | undefined;
  /** Agent rollouts (set by app.ts): hellos, `update-status` frames and disconnects. */
  updates: UpdateFrameListener | undefined;

  constructor(readonly deps: HubDeps) {
    this.limits = deps.limits ?? DEFAULT_CONTROL_LIMITS;
    this.budgets = new FrameBudgets(this.limits.frameBudgetFactor);
    this.reports = createSignedReports({
      repos: deps.repos,
      now: deps.now,
      maxClockSkewMs: deps.policy.maxClockSkewSeconds * 1000,
      events: deps.events,
      onStored: () => deps.metrics.usageReports.inc(),
    });
    this.pingTimer = setInterval(() => this.pingSlice(), this.limits.pingIntervalMs / PING_SLICES);
    // A batch still being written (a slow database) is not raced by the next.
    this.flushTimer = setInterval(() => {
      if (!this.flushing) void this.flushPresence();
    }, this.limits.presenceFlushMs);
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

  onUpdates(listener: UpdateFrameListener): void {
    this.updates = listener;
  }

  /** The nodes with a live session here, with the status they were last told. */
  connectedNodes(): { nodeId: string; status: NodeStatus }[] {
    return [...this.sessions.values()]
      .filter((s) => !s.ended)
      .map((s) => ({ nodeId: s.nodeId, status: s.status }));
  }

  /** Offer an agent release to a live node; false when it is not connected. */
  sendUpdate(nodeId: string, message: UpdateMessage): boolean {
    const session = this.sessions.get(nodeId);
    if (!session || session.ended || session.socket.readyState !== session.socket.OPEN) return false;
    session.send(message);
    return true;
  }

  /** Ask a live node to run an audit; false when it is not connected. */
  sendAudit(nodeId: string, request: AuditRequest): boolean {
    const session = this.sessions.get(nodeId);
    if (!session || session.ended || session.socket.readyState !== session.socket.OPEN) return false;
    session.send(request);
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
      this.end(previous, 'replaced', true, CLOSE_CODES.REPLACED, 'replaced by a newer session');
    }
    const session = new ControlSession(
      newId('ses'),
      nodeId,
      socket,
      node.status,
      this.deps.now(),
      this.limits.closeGraceMs,
    );
    session.pingSlot = this.nextPingSlot;
    this.nextPingSlot = (this.nextPingSlot + 1) % PING_SLICES;
    this.sessions.set(nodeId, session);
    this.deps.observer?.attached(nodeId, session.id, session.lastHeardAt);
    this.deps.presence.connect(nodeId, session.id, null, COUNTABLE.includes(node.status));
    this.deps.metrics.controlConnects.inc();
    socket.on('pong', () => {
      if (session.ended) return;
      session.heard(this.deps.now());
      this.deps.presence.seen(nodeId);
    });
    socket.on('message', (data, isBinary) => {
      void this.onFrame(session, readAgentFrame(data, isBinary)).catch((error: unknown) => {
        this.deps.log.error({ err: error, nodeId }, 'control frame handling failed');
      });
    });
    socket.on('close', () => this.end(session, session.bye ? 'bye' : 'disconnected', session.bye));
    socket.on('error', (error) => this.deps.log.warn({ err: error, nodeId }, 'control socket error'));
    session.send({
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
  private async recheck(session: ControlSession): Promise<void> {
    const told = session.status;
    const node = await this.deps.repos.nodes.get(session.nodeId);
    // A status event since then already told the node something newer.
    if (!node || session.status !== told || node.status === told) return;
    this.onStatus({ nodeId: node.id, status: node.status, reason: node.statusReason });
  }

  /** Work the frame or event path does not wait for: its failure is logged. */
  background(work: Promise<unknown>, nodeId: string): void {
    work.catch((error: unknown) =>
      this.deps.log.error({ err: error, nodeId }, 'control channel work failed'),
    );
  }

  /**
   * Close this node's session if it is still the one named: a newer session of the node opened on
   * another replica.
   */
  closeSession(nodeId: string, sessionId: string, reason: string): boolean {
    const session = this.sessions.get(nodeId);
    if (!session || session.id !== sessionId) return false;
    session.socket.close(CLOSE_CODES.REPLACED, reason);
    this.end(session, 'replaced', true);
    return true;
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
    session.send({ type: 'command', id, name, args });
    return outcome;
  }

  /** Open a shell on the node, if it allows remote shells; the listener receives its output and its end. */
  openShell(nodeId: string, sessionId: string, cols: number, rows: number, listener: ShellListener): boolean {
    if (!this.sessions.get(nodeId)?.shellEnabled) return false;
    this.shells.open(nodeId, sessionId, cols, rows, listener);
    return true;
  }

  async flushPresence(): Promise<void> {
    this.flushing = true;
    try {
      await this.deps.presence.flush();
    } catch (error) {
      this.deps.log.error({ err: error }, 'presence flush failed');
    } finally {
      this.flushing = false;
    }
  }

  /** Server shutdown: close every session cleanly and write presence. */
  /**
   * End every session but keep serving (this replica was declared dead by the others, who closed
   * its presence): the nodes reconnect, here or elsewhere, and get new sessions and intervals.
   */
  async endSessions(reason: string): Promise<void> {
    for (const session of [...this.sessions.values()]) {
      session.socket.close(CLOSE_CODES.SERVER_SHUTDOWN, reason);
      this.end(session, reason, true);
    }
    await this.deps.presence.closeAll(reason);
  }

  async close(): Promise<void> {
    clearInterval(this.pingTimer);
    clearInterval(this.flushTimer);
    this.unsubscribe();
    this.commands.failAll('The server is shutting down.');
    for (const session of [...this.sessions.values()]) {
      this.end(session, 'server-shutdown', true, CLOSE_CODES.SERVER_SHUTDOWN, 'server shutting down');
    }
    await this.deps.presence.closeAll('server-shutdown');
  }

  /**
   * The session is over: nothing it sends is processed any more, and (with a code) its socket is
   * closed. Presence, commands and shells of the node end with it unless a newer session took over.
   */
  end(session: ControlSession, reason: string, clean: boolean, code?: number, closeReason = reason): void {
    if (session.ended) return;
    session.ended = true;
    if (code !== undefined) session.close(code, closeReason);
    if (this.sessions.get(session.nodeId) !== session) return;
    this.sessions.delete(session.nodeId);
    this.deps.observer?.ended(session.nodeId, session.id);
    this.deps.presence.disconnect(session.nodeId, session.id, reason, clean);
    this.commands.failNode(session.nodeId, 'The node disconnected before answering.');
    this.shells.endAll(session.nodeId, `The node disconnected (${reason}).`);
    this.audits?.disconnected(session.nodeId);
    this.updates?.disconnected(session.nodeId);
  }

  async sendJoin(session: ControlSession): Promise<void> {
    const node = await this.deps.repos.nodes.get(session.nodeId);
    if (!node || session.ended) return;
    const network = await this.deps.repos.network.ensure(node.id, this.deps.now());
    const software = await (this.deps.joinSoftware?.() ?? Promise.resolve({ packages: [] })).catch(
      (error: unknown) => {
        this.deps.log.error({ err: error, nodeId: node.id }, 'choosing the join software failed');
        return { packages: [] };
      },
    );
    if (session.ended) return;
    session.joinsOutstanding += 1;
    session.send(buildJoinMessage(this.deps.cluster, node, network, software));
  }

  /** Answer a frame the server will not take; repeated, it ends the session. */
  refuse(session: ControlSession, code: string, message: string, seq?: number): void {
    session.badFrames += 1;
    this.deps.metrics.controlMessages.inc({ type: code === 'RATE_LIMITED' ? 'over-budget' : 'invalid' });
    session.send({ type: 'error', code, message, ...(seq === undefined ? {} : { seq }) });
    if (session.badFrames >= ABUSE_LIMIT)
      this.end(session, 'abuse', false, CLOSE_CODES.ABUSE, 'too many refused frames');
  }

  private async onFrame(session: ControlSession, frame: FrameResult): Promise<void> {
    if (session.ended) return;
    // Any frame proves the connection alive, as a pong does.
    const now = this.deps.now();
    session.heard(now);
    this.deps.presence.seen(session.nodeId);
    if (!frame.ok) return this.refuse(session, frame.code, frame.message);
    const { type } = frame.message;
    if (!this.budgets.take(session.nodeId, type, now)) {
      const rate = this.budgets.rate(type);
      return this.refuse(
        session,
        'RATE_LIMITED',
        `Too many "${type}" messages: at most ${rate.burst} at once and ${describeRate(rate.perSecond)}. This one was not processed.`,
      );
    }
    this.deps.metrics.controlMessages.inc({ type });
    const { message } = frame;
    await session.serially(async () => {
      if (!session.ended) await handleAgentMessage(this, session, message);
    });
  }

  onStatus(event: NodeStatusEvent): void {
    const session = this.sessions.get(event.nodeId);
    this.deps.presence.setCountable(event.nodeId, COUNTABLE.includes(event.status));
    if (!session) return;
    session.status = event.status;
    session.send({ type: 'status', status: event.status, reason: event.reason });
    if (event.status === 'approved') this.background(this.sendJoin(session), session.nodeId);
    if (event.status === 'revoked' || event.status === 'rejected')
      this.end(session, event.status, true, CLOSE_CODES.NODE_REFUSED, event.status);
  }

  /**
   * Every session is pinged (and its silence checked) once per ping interval (15 s), a slice of them
   * at each tick: pinging 10,000 sockets at once held this process and every agent's pong up for
   * a few hundred milliseconds every interval (the 99th percentile of heartbeat latency).
   */
  private pingSlice(): void {
    const now = this.deps.now();
    const mono = performance.now();
    const slot = this.pingTick;
    this.pingTick = (this.pingTick + 1) % PING_SLICES;
    if (slot === 0) this.budgets.sweep(now);
    const due: ControlSession[] = [];
    for (const session of this.sessions.values()) if (session.pingSlot === slot) due.push(session);
    for (const session of due) {
      if (mono - session.heardMono > this.limits.pongTimeoutMs) {
        session.socket.terminate();
        this.end(session, 'pong-timeout', false);
        continue;
      }
      session.socket.ping();
    }
  }
}

function describeRate(perSecond: number): string {
  if (perSecond >= 1) return `${Math.round(perSecond)} per second`;
  return `one every ${Math.round(1 / perSecond)} s`;
}
