/**
 * What the fleet watch reads and remembers: the machines it watches, the pending queue, which
 * owners were told a machine is offline (so a restart tells nobody twice) and which pending
 * machines ops were told about.
 */
export interface WatchedNode {
  id: string;
  ownerId: string;
}

export interface PendingNode extends WatchedNode {
  /** When it became pending (its last status change). */
  since: number;
}

export interface FleetWatchRepository {
  /** Approved and active machines. */
  watched(): Promise<WatchedNode[]>;
  /** The last sign of life of each machine that ever held a session (ms). */
  lastSeen(nodeIds: readonly string[]): Promise<Map<string, number>>;
  /** Machines pending since `before` or earlier, whose ops alert (if any) is older than `realertBefore`. */
  pendingWaiting(before: number, realertBefore: number, limit: number): Promise<PendingNode[]>;
  recordPendingAlerts(nodeIds: readonly string[], at: number): Promise<void>;
  /** Machines whose owner was told they are offline and not yet that they are back. */
  openNotices(): Promise<{ nodeId: string; offlineSince: number }[]>;
  /** False when one was open already. */
  openNotice(nodeId: string, offlineSince: number, at: number): Promise<boolean>;
  /** False when none was open. */
  closeNotice(nodeId: string): Promise<boolean>;
}
