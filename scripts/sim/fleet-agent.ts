/**
 * A simulated node that behaves like the real agent on the wire: it reconnects with capped,
 * full-jitter backoff, heartbeats, keeps signed usage reports until the server acks them and sends
 * them again after every reconnect, and refuses remote shells (it has none). Many run in one
 * process (simulator, demo, storm benchmark, fault tests).
 */
import { createHash } from 'node:crypto';
import { ARTIFACT_AUDIENCE } from '../../protocol/artifacts.js';
import {
  HEARTBEAT_INTERVAL_MS,
  RECONNECT_MAX_MS,
  RECONNECT_MIN_MS,
  RECONNECT_REFUSED_MAX_MS,
  type ServerMessage,
} from '../../protocol/control.js';
import {
  type SimConnection,
  type SimIdentity,
  connectControl,
  signNodeToken,
  signPayload,
  simHello,
  simMetrics,
} from './sim-agent.js';
import { type SimAuditVerdict, simAuditReport } from './sim-audit.js';
import { fullJitterDelay } from '../../agent/control/reconnect.js';

/** How a simulated node answers the server's audits: after `durationMs`, with a signed report. */
export interface SimAuditOptions {
  verdict: (agent: FleetAgent) => SimAuditVerdict;
  durationMs: number;
  /** An audit request arrived (`start`) or its report was sent (`end`): the benchmark counts them. */
  onAudit?: (phase: 'start' | 'end', auditId: string) => void;
}

export interface FleetAgentOptions {
  url: string;
  /**
   * Several server replicas: each connection attempt picks one at random (as DNS round robin or a
   * load balancer would), so a node whose replica died reconnects to another.
   */
  urls?: readonly string[];
  nodeId: string;
  identity: SimIdentity;
  heartbeatMs?: number;
  minDelayMs?: number;
  maxDelayMs?: number;
  /** After the server says its storage is full, send unacked reports again after this long. */
  storageRetryMs?: number;
  /** Answer `join` with a successful join-result (as a node with working cluster tools would). */
  joins?: boolean;
  random?: () => number;
  /** Answer `audit` requests (as the real agent does, one at a time). */
  audits?: SimAuditOptions;
  onMessage?: (agent: FleetAgent, message: ServerMessage) => void;
  /**
   * Take update offers as the real agent does, minus the install: download the release with a
   * node JWT (checked against its SHA-256), say so with update-status, then reconnect as the new
   * version (the server counts a node healthy once it says hello as that version).
   */
  updates?: {
    /** A download started (`start`) or ended (`end`, with its bytes): the benchmark counts them. */
    onDownload?: (phase: 'start' | 'end', bytes: number) => void;
    /** Say `healthy` after the new version is welcomed (default); false: only its hello says so. */
    reportHealthy?: boolean;
  };
}

export class FleetAgent {
  conn: SimConnection | undefined;
  connects = 0;
  failedAttempts = 0;
  refusals = 0;
  /** The HTTP status of the last refused attempt (0: the last attempt failed without one). */
  lastRefusal: number | undefined;
  /** The last refusal's Retry-After and the start of its body (to say why a node is not back). */
  lastRefusalBody = '';
  status: string | undefined;
  /** The server the current (or last) connection went to. */
  url: string | undefined;
  private stopped = false;
  private attempt = 0;
  private heartbeat: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  private storageRetry: NodeJS.Timeout | undefined;
  private seq = 0;
  private readonly unacked = new Map<number, string>();
  readonly acked = new Set<number>();
  /** The version said in hello: changes after an update. */
  agentVersion = 'sim-0.1.0';
  private updating = false;
  /** The update to report healthy once the new version is welcomed (as the real agent does). */
  private restartedFor: { rolloutId: string; version: string } | undefined;

  constructor(readonly options: FleetAgentOptions) {}

  get connected(): boolean {
    return this.conn?.socket.readyState === 1;
  }

  get unackedCount(): number {
    return this.unacked.size;
  }

  start(): void {
    this.stopped = false;
    void this.connect();
  }

  async stop(bye = true): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    clearTimeout(this.storageRetry);
    this.storageRetry = undefined;
    clearInterval(this.heartbeat);
    await this.conn?.close(bye).catch(() => undefined);
  }

  /** Sign a usage report and keep it until acked; sent now if connected, else after the next connect. */
  async report(
    from: number,
    to: number,
    workloads: { leaseId: string; gpus: number; seconds: number }[],
  ): Promise<number> {
    this.seq += 1;
    const seq = this.seq;
    const jws = await signPayload(this.options.identity, {
      nodeId: this.options.nodeId,
      seq,
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      workloads,
    });
    this.unacked.set(seq, jws);
    if (this.connected) this.conn?.send({ type: 'usage', seq, report: jws });
    return seq;
  }

  /**
   * The delay before the next reconnect attempt, by the real agent's rule (`ReconnectBackoff`:
   * full jitter, capped lower while nothing listens at the address, never sooner than Retry-After).
   */
  private schedule(nobodyListening = false, retryAfterSeconds = 0): void {
    if (this.stopped) return;
    const maxMs = this.options.maxDelayMs ?? RECONNECT_MAX_MS;
    const random = this.options.random ?? Math.random;
    const jittered = fullJitterDelay(this.attempt + 1, random, {
      minMs: this.options.minDelayMs ?? RECONNECT_MIN_MS,
      maxMs: nobodyListening ? Math.min(maxMs, RECONNECT_REFUSED_MAX_MS) : maxMs,
    });
    const told = retryAfterSeconds * 1000;
    const wait = told > 0 ? Math.max(jittered, Math.floor(told + random() * (told / 4))) : jittered;
    this.attempt += 1;
    this.retry = setTimeout(() => void this.connect(), wait);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const { urls } = this.options;
    const url = urls?.length
      ? (urls[Math.floor((this.options.random ?? Math.random)() * urls.length)] ?? this.options.url)
      : this.options.url;
    this.url = url;
    const { conn, refused } = await connectControl(
      url,
      await signNodeToken(this.options.identity, this.options.nodeId),
    );
    if (!conn) {
      if (refused?.status) this.refusals += 1;
      else this.failedAttempts += 1;
      this.lastRefusal = refused?.status ?? 0;
      this.lastRefusalBody = `Retry-After ${refused?.retryAfterSeconds ?? '-'}: ${(refused?.body ?? '').slice(0, 200)}`;
      // A rejected or revoked node stops, as the real agent does.
      if (refused?.status === 403) return;
      return this.schedule(refused?.nobodyListening === true, refused?.retryAfterSeconds);
    }
    if (this.stopped) return void conn.close(false);
    this.conn = conn;
    this.connects += 1;
    this.attempt = 0;
    conn.listen((message) => this.onMessage(message));
    conn.send(simHello(true, this.agentVersion));
    for (const [seq, jws] of this.unacked) conn.send({ type: 'usage', seq, report: jws });
    let beat = 0;
    this.heartbeat = setInterval(() => {
      beat += 1;
      if (this.connected) conn.send({ type: 'heartbeat', seq: beat, metrics: simMetrics(beat) });
    }, this.options.heartbeatMs ?? HEARTBEAT_INTERVAL_MS);
    // The connection may have closed already (a close right behind `open` is seen before this
    // code runs): the promise, made when the socket was, reports that too, as the real agent's
    // dial keeps an early close for its session.
    void conn.waitClosed().then(() => {
      if (this.conn !== conn) return;
      clearInterval(this.heartbeat);
      this.conn = undefined;
      this.schedule();
    });
  }

  private onMessage(message: ServerMessage): void {
    if (message.type === 'ack') {
      this.unacked.delete(message.seq);
      this.acked.add(message.seq);
    }
    if (message.type === 'welcome' || message.type === 'status') this.status = message.status;
    if (message.type === 'welcome' && this.restartedFor && this.options.updates?.reportHealthy !== false) {
      this.conn?.send({ type: 'update-status', ...this.restartedFor, state: 'healthy' });
      this.restartedFor = undefined;
    }
    if (message.type === 'error' && message.code === 'STORAGE_FULL' && !this.storageRetry) {
      // One retry at a time, however many reports were refused.
      this.storageRetry = setTimeout(() => {
        this.storageRetry = undefined;
        if (this.connected)
          for (const [seq, jws] of this.unacked) this.conn?.send({ type: 'usage', seq, report: jws });
      }, this.options.storageRetryMs ?? 30_000);
    }
    if (message.type === 'shell-open') {
      // A simulated machine has no shell: it refuses at once, so ops read why instead of waiting.
      this.conn?.send({
        type: 'shell-close',
        sessionId: message.sessionId,
        reason: 'This is a simulated machine (the demo or a benchmark): it has no shell to open.',
      });
    }
    if (message.type === 'join' && this.options.joins) {
      this.conn?.send({
        type: 'join-result',
        ok: true,
        // A valid WireGuard key (32 bytes, base64), distinct per node: the server refuses others.
        wireguardPublicKey: createHash('sha256').update(this.options.nodeId).digest('base64'),
      });
    }
    if (message.type === 'update' && this.options.updates && !this.updating)
      void this.update(message, this.options.updates);
    if (message.type === 'audit' && this.options.audits)
      this.answerAudit(message.auditId, this.options.audits);
    this.options.onMessage?.(this, message);
  }

  private async update(
    message: Extract<ServerMessage, { type: 'update' }>,
    hooks: NonNullable<FleetAgentOptions['updates']>,
  ): Promise<void> {
    this.updating = true;
    const { rolloutId, artifact } = message;
    const status = (state: 'downloading' | 'installing' | 'restarting' | 'failed', error?: string) =>
      this.conn?.send({ type: 'update-status', rolloutId, version: artifact.version, state, error });
    status('downloading');
    hooks.onDownload?.('start', 0);
    let bytes = 0;
    try {
      const token = await signNodeToken(this.options.identity, this.options.nodeId, {
        audience: ARTIFACT_AUDIENCE,
      });
      const res = await fetch(new URL(artifact.url, this.url ?? this.options.url), {
        headers: { authorization: `Bearer ${token}` },
      });
      if (!res.ok || !res.body) throw new Error(`download answered ${res.status}`);
      const hash = createHash('sha256');
      const reader = res.body.getReader();
      for (let part = await reader.read(); !part.done; part = await reader.read()) {
        hash.update(part.value);
        bytes += part.value.length;
      }
      if (hash.digest('hex') !== artifact.sha256) throw new Error('the download does not match its SHA-256');
    } catch (error) {
      status('failed', error instanceof Error ? error.message : String(error));
      this.updating = false;
      return;
    } finally {
      hooks.onDownload?.('end', bytes);
    }
    status('installing');
    status('restarting');
    this.agentVersion = artifact.version;
    this.restartedFor = { rolloutId, version: artifact.version };
    this.updating = false;
    // The new release starts: this connection ends without a bye, and the next one says hello
    // as the new version.
    this.conn?.socket.terminate();
  }

  /** Audits answered so far, and the one running. */
  auditsAnswered = 0;
  private auditRunning: string | undefined;

  private answerAudit(auditId: string, audits: SimAuditOptions): void {
    const conn = this.conn;
    if (this.auditRunning) {
      conn?.send({
        type: 'audit-error',
        auditId,
        code: 'AUDIT_BUSY',
        message: `Audit ${this.auditRunning} is still running on this machine; ask again when it has finished.`,
        runningAuditId: this.auditRunning,
      });
      return;
    }
    this.auditRunning = auditId;
    audits.onAudit?.('start', auditId);
    const startedAt = Date.now();
    setTimeout(() => {
      void simAuditReport(this.options.identity, this.options.nodeId, auditId, {
        verdict: audits.verdict(this),
        serverUrl: this.options.url,
        startedAt,
      }).then((jws) => {
        this.auditRunning = undefined;
        this.auditsAnswered += 1;
        audits.onAudit?.('end', auditId);
        if (this.connected) this.conn?.send({ type: 'audit-report', auditId, jws });
      });
    }, audits.durationMs);
  }
}
