/** Presence intervals: the stretches of time a node held a countable control session. */
export interface PresenceInterval {
  id: string;
  nodeId: string;
  startedAt: number;
  lastSeenAt: number;
  endedAt: number | null;
  endReason: string | null;
}

/** A batch of presence changes, written in one transaction. */
export interface PresenceWrite {
  id: string;
  nodeId: string;
  startedAt: number;
  lastSeenAt: number;
  endedAt: number | null;
  endReason: string | null;
  bootId: string | null;
  /** The server process (replica) that holds the session; its death ends the interval. */
  replicaId?: string | null;
}

export interface PresenceRepository {
  /** Upsert in one transaction: `lastSeenAt` only grows, an end once written stays. */
  write(rows: readonly PresenceWrite[]): Promise<void>;
  /** After a crash: close every interval still open at its last sign of life; how many were. */
  closeAllOpen(reason: string): Promise<number>;
  /** Intervals of a node that reach `from` or later, oldest first. */
  forNode(nodeId: string, from: number): Promise<PresenceInterval[]>;
  lastSeenAt(nodeId: string): Promise<number | null>;
}
