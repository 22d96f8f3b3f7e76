/**
 * What the server knows about a node's liveness. The control channel is the only source of
 * presence (DESIGN.md "Uptime and workload accounting"); until a node has held a session, it is
 * offline with no uptime. The control capability implements it (`control/presence-tracker.ts`);
 * `createNoPresence` is the source used where no channel hub is attached.
 */
export interface UptimeView {
  /** Fractions 0–1 of the last 24 hours and 7 days in which the node was up. */
  last24h: number;
  last7d: number;
  /** Seconds up since enrollment. */
  upSeconds: number;
}

export interface PresenceView {
  online: boolean;
  lastSeenAt: number | null;
  uptime: UptimeView;
  /** The latest heartbeat's metrics, or null when none arrived yet. */
  metrics: Record<string, unknown> | null;
  /** The live session's agent serves remote shells (it said so in `hello`); false when offline. */
  shellEnabled: boolean;
}

export interface PresenceSource {
  /**
   * The node's presence. Lists may be a few seconds behind for nodes held by another replica;
   * `exact` (one node's detail) reads where its session is at this moment.
   */
  view(nodeId: string, now: number, options?: { exact?: boolean }): Promise<PresenceView>;
  onlineNodeIds(): readonly string[];
  /** Resolves once `onlineNodeIds` is no older than its refresh period (other replicas' nodes). */
  current?(): Promise<void>;
  isOnline(nodeId: string): boolean;
}

export function createNoPresence(): PresenceSource {
  return {
    view: async () => ({
      online: false,
      lastSeenAt: null,
      uptime: { last24h: 0, last7d: 0, upSeconds: 0 },
      metrics: null,
      shellEnabled: false,
    }),
    onlineNodeIds: () => [],
    isOnline: () => false,
  };
}
