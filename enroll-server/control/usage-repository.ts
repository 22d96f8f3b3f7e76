/** Signed usage reports, stored once per (node, seq) with the JWS that proves them. */
export interface StoredUsageReport {
  nodeId: string;
  seq: number;
  fromAt: number;
  toAt: number;
  workloads: { leaseId: string; gpus: number; seconds: number }[];
  receivedAt: number;
}

export interface UsageRepository {
  /** Store a verified report; false when (node, seq) was already stored (a resend). */
  store(report: StoredUsageReport, jws: string): Promise<boolean>;
  /** Oldest seq first. */
  forNode(nodeId: string): Promise<StoredUsageReport[]>;
}
