/**
 * One live control connection: `hello`, a hardware snapshot and the spooled usage reports at once,
 * then heartbeats; every server frame validated against the protocol and handled (status, join,
 * ack, command, shell frames). It ends when the socket closes, and says how (`SessionEnd`).
 */
import type WebSocket from 'ws';
import {
  type AgentMessage,
  CLOSE_CODES,
  PONG_TIMEOUT_MS,
  type ServerMessage,
} from '../../protocol/control.js';
import type { NodeStatus } from '../../protocol/api.js';
import { joinFieldProblem } from '../../protocol/join-fields.js';
import type { AuditRequest } from '../../protocol/audit.js';
import type { Policy } from '../../protocol/policy.js';
import type { UpdateMessage } from '../../protocol/update.js';
import type { CommandOutcome } from '../commands/node-commands.js';
import { refusedJoinMessage } from '../join/apply-join.js';
import type { RemoteShells } from '../shell/remote-shells.js';
import type { EarlyEvents } from './dial.js';
import { readServerMessage } from './server-frames.js';

export type SessionEnd =
  | { kind: 'closed'; code: number; reason: string; healthy: boolean }
  /** The server closed with NODE_REFUSED after telling us the node is rejected or revoked. */
  | { kind: 'refused'; status: NodeStatus; reason: string }
  | { kind: 'exit'; code: number };

export interface SessionHooks {
  hello: () => AgentMessage;
  /** Frames to send right after hello (hardware snapshot, spooled usage). */
  opening: () => Promise<AgentMessage[]>;
  heartbeat: (seq: number) => Promise<AgentMessage>;
  heartbeatMs: number;
  healthyAfterMs: number;
  now: () => number;
  onStatus: (status: NodeStatus, reason: string | null | undefined, welcome: boolean) => void;
  onJoin: (join: Extract<ServerMessage, { type: 'join' }>) => Promise<AgentMessage>;
  onAck: (seq: number) => Promise<void>;
  onCommand: (command: Extract<ServerMessage, { type: 'command' }>) => Promise<CommandOutcome>;
  /** After a command's answer was sent (restart-agent, reboot). */
  afterCommand: (then: NonNullable<CommandOutcome['then']>, session: ControlSession) => Promise<void>;
  /** An `error` frame; `seq` names the usage report it refuses, when it is about one. */
  onServerError: (code: string, message: string, seq: number | undefined) => Promise<void> | void;
  shells: (send: (message: AgentMessage) => void) => RemoteShells;
  log: (level: 'info' | 'warn' | 'error', event: string, message: string) => void;
  /** The policy in `welcome` (audit thresholds and bounds). */
  onPolicy?: (policy: Policy) => void;
  /** The server asks for an audit (agent/audit/audit-service.ts); must return at once. */
  onAudit?: (request: AuditRequest) => void;
  /** The server offers an agent release (agent/update/agent-update.ts); must return at once. */
  onUpdate?: (update: UpdateMessage) => void;
}

export class ControlSession {
  readonly done: Promise<SessionEnd>;
  private resolveDone!: (end: SessionEnd) => void;
  private welcomedAt: number | undefined;
  private lastStatus: { status: NodeStatus; reason: string } | undefined;
  private lastHeard: number;
  private heartbeatSeq = 0;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly shells: RemoteShells;
  private exitCode: number | undefined;
  private joining: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly socket: WebSocket,
    private readonly hooks: SessionHooks,
    early?: EarlyEvents,
  ) {
    this.lastHeard = hooks.now();
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.shells = hooks.shells((m) => this.send(m));
    const onMessage = (data: WebSocket.RawData, isBinary: boolean) => {
      this.lastHeard = hooks.now();
      if (isBinary) return;
      this.onFrame(rawText(data));
    };
    socket.on('message', onMessage);
    socket.on('ping', () => (this.lastHeard = hooks.now()));
    socket.on('error', (error) =>
      hooks.log('warn', 'control_socket_error', `Control channel error: ${error.message}`),
    );
    socket.on('close', (code, reason) => this.onClose(code, reason.toString()));
    if (early) {
      early.release();
      for (const m of early.messages.splice(0)) onMessage(m.data, m.isBinary);
      if (early.close) {
        const { code, reason } = early.close;
        queueMicrotask(() => this.onClose(code, reason.toString()));
      }
    }
  }

  get open(): boolean {
    return this.socket.readyState === this.socket.OPEN;
  }

  send(message: AgentMessage): void {
    if (this.open) this.socket.send(JSON.stringify(message));
  }

  async start(): Promise<void> {
    const { hooks } = this;
    if (this.closed) return;
    this.send(hooks.hello());
    for (const message of await hooks.opening()) this.send(message);
    if (this.closed) return;
    const beat = () =>
      void hooks
        .heartbeat((this.heartbeatSeq += 1))
        .then((m) => this.send(m))
        .catch((error: unknown) =>
          hooks.log('warn', 'heartbeat_failed', `Heartbeat failed: ${String(error)}`),
        );
    beat();
    this.timers.push(setInterval(beat, hooks.heartbeatMs));
    this.timers.push(
      setInterval(() => {
        if (hooks.now() - this.lastHeard > PONG_TIMEOUT_MS) {
          hooks.log('warn', 'control_silent', 'The server has been silent for 45 s; reconnecting.');
          this.socket.terminate();
        }
      }, 5_000),
    );
  }

  /** A clean end: `bye`, then close, then the caller exits with `code`. */
  async stop(reason: string, code: number): Promise<void> {
    this.exitCode = code;
    this.send({ type: 'bye', reason });
    await new Promise<void>((resolve) => {
      if (!this.open) return resolve();
      const timer = setTimeout(() => {
        this.socket.terminate();
        resolve();
      }, 2_000);
      this.socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.socket.close(CLOSE_CODES.NORMAL, reason.slice(0, 100));
    });
  }

  private onClose(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    this.shells.closeAll();
    const healthy =
      this.welcomedAt !== undefined && this.hooks.now() - this.welcomedAt >= this.hooks.healthyAfterMs;
    if (this.exitCode !== undefined) return this.resolveDone({ kind: 'exit', code: this.exitCode });
    if (code === CLOSE_CODES.NODE_REFUSED) {
      const status = this.lastStatus?.status ?? (reason === 'rejected' ? 'rejected' : 'revoked');
      return this.resolveDone({ kind: 'refused', status, reason: this.lastStatus?.reason ?? reason });
    }
    this.resolveDone({ kind: 'closed', code, reason, healthy });
  }

  private onFrame(text: string): void {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return this.hooks.log(
        'warn',
        'control_bad_frame',
        'The server sent a frame that is not JSON; ignored.',
      );
    }
    // Unknown properties (a newer server's) are dropped; known ones must match exactly.
    const message = readServerMessage(value);
    if (!message) {
      const type = typeof value === 'object' && value && 'type' in value ? String(value.type) : '?';
      if (type === 'join') return this.refuseJoin(value);
      return this.hooks.log(
        'warn',
        'control_bad_frame',
        `The server sent an unexpected "${type}" frame; ignored.`,
      );
    }
    this.dispatch(message).catch((error: unknown) =>
      this.hooks.log(
        'error',
        'control_handler_failed',
        `Handling "${message.type}" failed: ${String(error)}`,
      ),
    );
  }

  /**
   * A `join` whose fields do not match their patterns: nothing is written or run, and the server
   * hears why (`join-result` with ok false), so ops see a flag instead of a node stuck in approved.
   */
  private refuseJoin(value: unknown): void {
    const problem =
      joinFieldProblem(value) ?? 'it does not have the fields of a join message (cluster, network, labels)';
    const error = refusedJoinMessage(problem);
    this.hooks.log('error', 'join_refused', error);
    this.send({ type: 'join-result', ok: false, error: error.slice(0, 4000) });
  }

  private async dispatch(message: ServerMessage): Promise<void> {
    const { hooks } = this;
    switch (message.type) {
      case 'welcome':
        this.welcomedAt = hooks.now();
        this.lastStatus = { status: message.status, reason: message.reason ?? '' };
        hooks.onPolicy?.(message.policy);
        return hooks.onStatus(message.status, message.reason, true);
      case 'status':
        this.lastStatus = { status: message.status, reason: message.reason ?? '' };
        return hooks.onStatus(message.status, message.reason, false);
      case 'join': {
        // One join at a time, in order: a second identical join re-checks after the first.
        const run = this.joining.then(async () => this.send(await hooks.onJoin(message)));
        this.joining = run.catch(() => undefined);
        return run;
      }
      case 'ack':
        return hooks.onAck(message.seq);
      case 'command': {
        const outcome = await hooks.onCommand(message).catch((error: unknown): CommandOutcome => ({
          ok: false,
          error: `The command failed: ${String(error)}`.slice(0, 4000),
        }));
        this.send({
          type: 'result',
          id: message.id,
          ok: outcome.ok,
          ...(outcome.output === undefined ? {} : { output: outcome.output }),
          ...(outcome.error === undefined ? {} : { error: outcome.error.slice(0, 4000) }),
        });
        if (outcome.then) await hooks.afterCommand(outcome.then, this);
        return;
      }
      case 'error':
        return hooks.onServerError(message.code, message.message, message.seq);
      case 'shell-open':
        return this.shells.open(message.sessionId, message.cols, message.rows);
      case 'shell-data':
        return this.shells.input(message.sessionId, message.data);
      case 'shell-resize':
        return this.shells.resize(message.sessionId, message.cols, message.rows);
      case 'shell-pause':
        return this.shells.pause(message.sessionId);
      case 'shell-resume':
        return this.shells.resume(message.sessionId);
      case 'shell-close':
        return this.shells.close(message.sessionId, message.reason);
      case 'audit':
        if (hooks.onAudit) return hooks.onAudit(message);
        return this.send({
          type: 'audit-error',
          auditId: message.auditId,
          code: 'AUDIT_FAILED',
          message: 'This agent does not run audits.',
        });
      case 'update':
        if (hooks.onUpdate) return hooks.onUpdate(message);
        return this.send({
          type: 'update-status',
          rolloutId: message.rolloutId,
          version: message.artifact.version,
          state: 'failed',
          error: 'This agent does not take updates over the air.',
        });
    }
  }

  get shellCount(): number {
    return this.shells.count;
  }
}

function rawText(data: WebSocket.RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
