/**
 * Signed usage reports, stored once per (node, seq) with the JWS that proves them. A node's stored
 * reports never overlap in time (DESIGN.md "Uptime and workload accounting"): `store` refuses a
 * report whose window overlaps one already stored for the node, in the same transaction as the
 * insert, so that no window can be paid twice.
 */
export interface StoredUsageReport {
  nodeId: string;
  seq: number;
  fromAt: number;
  toAt: number;
  workloads: { leaseId: string; gpus: number; seconds: number }[];
  receivedAt: number;
}

export type UsageStoreOutcome =
  | { outcome: 'stored' }
  /** (node, seq) was stored already: a resend, answered like the first time. */
  | { outcome: 'duplicate' }
  /** The window overlaps this stored report of the node's; nothing was written. */
  | { outcome: 'overlap'; seq: number; fromAt: number; toAt: number };

export interface UsageRepository {
  /** Store a verified report unless it is a resend or overlaps a stored one (checked in one transaction). */
  store(report: StoredUsageReport, jws: string): Promise<UsageStoreOutcome>;
  /** Oldest seq first. */
  forNode(nodeId: string): Promise<StoredUsageReport[]>;
}
