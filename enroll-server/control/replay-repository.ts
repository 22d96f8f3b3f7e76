/**
 * Node connection tokens already used (DESIGN.md "Node identity": a replayed `jti` is refused),
 * kept until they expire so that a restart, or another replica, does not forget them.
 */
export interface ReplayRepository {
  /** Record the node's `jti` as used until `expiresAt`; false when it was recorded before (a replay). */
  use(nodeId: string, jti: string, expiresAt: number): Promise<boolean>;
  /** Forget tokens that expired at or before `now`; how many were forgotten. */
  prune(now: number): Promise<number>;
}
