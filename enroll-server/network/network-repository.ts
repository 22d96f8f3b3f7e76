/** The WireGuard overlay: each node's address slot and, once joined, its public key. */
export interface NodeNetwork {
  nodeId: string;
  overlayIndex: number;
  wireguardPublicKey: string | null;
  joinedAt: number | null;
}

export interface NetworkRepository {
  /** The node's overlay slot, allocating the next free one (indexes start at 2; 1 is the hub). */
  ensure(nodeId: string, now: number): Promise<NodeNetwork>;
  setJoined(nodeId: string, wireguardPublicKey: string, now: number): Promise<void>;
  /** The node that holds this WireGuard public key, if any (keys are unique across nodes). */
  holderOf(wireguardPublicKey: string): Promise<string | undefined>;
  /** Every node with a slot, with its status, by slot. */
  peers(): Promise<(NodeNetwork & { status: string })[]>;
}
