/**
 * Flags: things ops must look at (a fingerprint under two owners, a duplicate session, a failed
 * join). One open flag per node and kind: a repeat raises its count and last-seen time instead of
 * adding a row, so a node cannot bury its page (or the database) under copies of one flag.
 */
export interface NodeFlag {
  id: number;
  nodeId: string | null;
  kind: string;
  /** The latest occurrence's message and details. */
  message: string;
  details: unknown;
  createdAt: number;
  /** How many times it happened while open, and when last. */
  count: number;
  lastSeenAt: number;
  resolvedAt: number | null;
}

export interface FlagRepository {
  /** Open the flag, or count one more occurrence of the open flag of this node and kind. */
  add(nodeId: string | null, kind: string, message: string, details: unknown, at: number): Promise<void>;
  /** The node's flags, most recently seen first, and how many there are in all. */
  forNode(nodeId: string, limit: number, offset: number): Promise<{ flags: NodeFlag[]; total: number }>;
}
