/**
 * Which replica holds which node's session, kept in the database for every replica to read.
 * The hub tells it about sessions (`SessionObserver`); claims and releases are written in small
 * batches (every `flushMs`), so that a reconnect storm costs a few multi-row statements rather
 * than one per node, and no session waits for the database to start. When a claim takes a node
 * over from another replica (the node reconnected there before that replica noticed), that
 * replica is told to close its older session.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { MessageBus } from '../core/message-bus.js';
import type { SessionObserver } from '../control/session-observer.js';
import { parseBusMessage } from './bus-messages.js';
import type { NodeSessionRecord, ReplicaRepository, SessionClaim } from './replica-repository.js';

export interface SessionDirectoryDeps {
  repos: { replicas: ReplicaRepository };
  bus: MessageBus;
  replicaId: string;
  lapseMs: number;
  now: () => number;
  log: FastifyBaseLogger;
  /** Closes this replica's session of a node, if it is still the one named. */
  closeLocal: (nodeId: string, sessionId: string, reason: string) => void;
  flushMs?: number;
}

/** Where a node's session is, as seen from this replica. */
export type SessionLocation = { where: 'here' } | { where: 'replica'; session: NodeSessionRecord } | null;

export class SessionDirectory implements SessionObserver {
  /** Per node, what this replica must write: its claim, or the release of its session. */
  private pending = new Map<string, { claim: SessionClaim } | { release: string }>();
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> | null = null;
  private closing = false;
  private readonly unsubscribe: () => void;

  constructor(private readonly deps: SessionDirectoryDeps) {
    this.timer = setInterval(() => void this.flush(), deps.flushMs ?? 250);
    this.timer.unref();
    this.unsubscribe = deps.bus.subscribe('session_taken', (payload) => {
      const message = parseBusMessage('session_taken', payload);
      if (message?.replicaId === deps.replicaId)
        deps.closeLocal(message.nodeId, message.sessionId, 'the node connected to another server replica');
    });
  }

  attached(nodeId: string, sessionId: string, at: number): void {
    if (this.closing) return;
    this.pending.set(nodeId, { claim: { nodeId, sessionId, connectedAt: at, shellEnabled: false } });
  }

  hello(nodeId: string, sessionId: string, shellEnabled: boolean): void {
    if (this.closing) return;
    const current = this.pending.get(nodeId);
    if (current && 'claim' in current && current.claim.sessionId === sessionId) {
      current.claim.shellEnabled = shellEnabled;
      return;
    }
    // Written already (or being written): write it again with the node's answer.
    const claim = this.known(nodeId);
    if (claim?.sessionId === sessionId) this.pending.set(nodeId, { claim: { ...claim, shellEnabled } });
  }

  ended(nodeId: string, sessionId: string): void {
    if (this.closing) return;
    const current = this.pending.get(nodeId);
    const unwritten = current && 'claim' in current && current.claim.sessionId === sessionId;
    // Claimed and gone before the claim was written: nothing to write.
    if (unwritten && this.known(nodeId)?.sessionId !== sessionId) this.pending.delete(nodeId);
    else this.pending.set(nodeId, { release: sessionId });
  }

  /** Claims written, by node (to re-write one with its hello, and to know what to release). */
  private readonly claimsWritten = new Map<string, SessionClaim>();
  /** The batch being written now. */
  private inFlight: Map<string, { claim: SessionClaim } | { release: string }> | null = null;

  private known(nodeId: string): SessionClaim | undefined {
    const flying = this.inFlight?.get(nodeId);
    if (flying && 'claim' in flying) return flying.claim;
    return this.claimsWritten.get(nodeId);
  }

  /** Writes what is pending; concurrent calls wait for the same write. */
  async flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    this.inFlight = batch;
    this.flushing = this.write(batch).finally(() => {
      this.flushing = null;
      this.inFlight = null;
    });
    return this.flushing;
  }

  private async write(batch: Map<string, { claim: SessionClaim } | { release: string }>): Promise<void> {
    const claims: SessionClaim[] = [];
    const releases: { nodeId: string; sessionId: string }[] = [];
    for (const [nodeId, op] of batch) {
      if ('claim' in op) claims.push(op.claim);
      else releases.push({ nodeId, sessionId: op.release });
    }
    const { replicas } = this.deps.repos;
    try {
      if (releases.length) await replicas.release(this.deps.replicaId, releases);
      for (const r of releases)
        if (this.claimsWritten.get(r.nodeId)?.sessionId === r.sessionId) this.claimsWritten.delete(r.nodeId);
      if (claims.length) {
        const taken = await replicas.claim(this.deps.replicaId, claims);
        for (const c of claims) this.claimsWritten.set(c.nodeId, c);
        await Promise.all(taken.map((t) => this.tellTaken(t)));
      }
    } catch (error) {
      // Keep what could not be written, unless something newer replaced it meanwhile.
      for (const [nodeId, op] of batch) if (!this.pending.has(nodeId)) this.pending.set(nodeId, op);
      this.deps.log.error(
        { err: error, event: 'session_claims_failed' },
        'node session claims could not be written',
      );
    }
  }

  private async tellTaken(previous: NodeSessionRecord): Promise<void> {
    const message = {
      replicaId: previous.replicaId,
      nodeId: previous.nodeId,
      sessionId: previous.sessionId,
      by: this.deps.replicaId,
    };
    await this.deps.bus
      .publish('session_taken', JSON.stringify(message))
      .catch((error: unknown) =>
        this.deps.log.warn(
          { err: error, nodeId: previous.nodeId },
          'could not tell a replica to close an older session',
        ),
      );
  }

  /** The node's session on another live replica, or null (this replica's own are known to the hub). */
  async elsewhere(nodeId: string): Promise<NodeSessionRecord | null> {
    const session = await this.deps.repos.replicas.session(nodeId, this.deps.now(), this.deps.lapseMs);
    return session && session.replicaId !== this.deps.replicaId ? session : null;
  }

  /** Stop writing: the replica leaves the registry, which drops all its claims at once. */
  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.timer);
    this.unsubscribe();
    await this.flushing;
    this.pending.clear();
  }
}
