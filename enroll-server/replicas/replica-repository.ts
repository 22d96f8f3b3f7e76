/**
 * Replicas and node sessions: every server process (a replica) registers itself with the address
 * the others reach it at and keeps a heartbeat; the replica that holds a node's live control
 * session says so, so that commands and shells from any replica find it. A replica whose
 * heartbeat lapsed is dead: `reap` ends its presence at the last sign of life and drops its claims.
 */
export interface ReplicaRecord {
  id: string;
  /** The internal URL other replicas reach it at (`HOMENODE_REPLICA_URL`), or null. */
  url: string | null;
  startedAt: number;
  heartbeatAt: number;
  stoppedAt: number | null;
  stopReason: string | null;
}

/** A node's live session as the fleet sees it. */
export interface NodeSessionRecord {
  nodeId: string;
  replicaId: string;
  sessionId: string;
  connectedAt: number;
  shellEnabled: boolean;
}

export interface SessionClaim {
  nodeId: string;
  sessionId: string;
  connectedAt: number;
  shellEnabled: boolean;
}

export interface ReapResult {
  /** The replicas declared dead. */
  replicas: string[];
  /** Presence intervals closed at their last sign of life. */
  intervals: number;
  /** Node sessions they held, now released. */
  sessions: number;
}

export interface ReplicaRepository {
  register(replica: { id: string; url: string | null; now: number }): Promise<void>;
  /** False when this replica was declared dead meanwhile (its heartbeat had lapsed). */
  heartbeat(id: string, now: number): Promise<boolean>;
  /** A clean stop: the replica's claims are released (its presence was closed by the caller). */
  stop(id: string, now: number, reason: string): Promise<void>;
  /** Replicas not stopped whose heartbeat is newer than `now - lapseMs`, oldest first. */
  live(now: number, lapseMs: number): Promise<ReplicaRecord[]>;
  get(id: string): Promise<ReplicaRecord | undefined>;
  /**
   * Declares every other replica whose heartbeat is `lapseMs` old (or older) dead, in one
   * transaction: ends their open presence intervals (and any written by no replica) at their last
   * sign of life with `reason`, and drops their session claims.
   */
  reap(self: string, now: number, lapseMs: number, reason: string): Promise<ReapResult>;
  /**
   * Claims these nodes' sessions for `replicaId` (a newer session replaces any other); answers the
   * claims it took over from other replicas, so that those can close their older sessions.
   */
  claim(replicaId: string, claims: readonly SessionClaim[]): Promise<NodeSessionRecord[]>;
  /** Releases these nodes' claims if `replicaId` still holds them with these sessions. */
  release(replicaId: string, sessions: readonly { nodeId: string; sessionId: string }[]): Promise<number>;
  /** The claim on a node, if its replica is live. */
  session(nodeId: string, now: number, lapseMs: number): Promise<NodeSessionRecord | undefined>;
  /** Every node held by a live replica other than `except`. */
  heldElsewhere(except: string, now: number, lapseMs: number): Promise<string[]>;
}
