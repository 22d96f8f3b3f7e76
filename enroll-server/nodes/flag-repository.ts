/** Flags: things ops must look at (a fingerprint under two owners, a duplicate session, a failed join). */
export interface NodeFlag {
  id: number;
  nodeId: string | null;
  kind: string;
  message: string;
  details: unknown;
  createdAt: number;
  resolvedAt: number | null;
}

export interface FlagRepository {
  add(nodeId: string | null, kind: string, message: string, details: unknown, at: number): Promise<void>;
  forNode(nodeId: string): Promise<NodeFlag[]>;
}
