/** Nodes: identity, owner, status, hardware facts and what is derived from them; hardware history. */
import type { NodeStatus, PublicJwk } from '../../protocol/api.js';
import type { ProviderAttribute } from '../../protocol/attributes.js';
import type { Check, HardwareFacts } from '../../protocol/hardware.js';
import type { HistoryWrite } from './hardware-history.js';

export interface NodeRecord {
  id: string;
  ownerId: string;
  enrolledWithKey: string | null;
  status: NodeStatus;
  statusReason: string | null;
  publicKey: PublicJwk;
  publicKeyThumbprint: string;
  fingerprint: string;
  hardware: HardwareFacts;
  preflight: Check[];
  attributes: ProviderAttribute[];
  labels: Record<string, string>;
  agentVersion: string;
  createdAt: number;
  updatedAt: number;
  enrolledAt: number;
  approvedAt: number | null;
  approvedBy: string | null;
  lastSeenAt: number | null;
}

export interface NodeListFilter {
  ownerId?: string;
  status?: NodeStatus;
  /** Only nodes whose agent said this version in its latest hello (or enrolled with it). */
  agentVersion?: string;
  /** Matches the node id, the owner's email or name, or an attribute. */
  q?: string;
  ids?: readonly string[];
  excludeIds?: readonly string[];
  limit: number;
  offset: number;
}

/** Fields an enrollment (new or re-install) sets. */
export type EnrollmentFields = Pick<
  NodeRecord,
  | 'enrolledWithKey'
  | 'status'
  | 'statusReason'
  | 'publicKey'
  | 'publicKeyThumbprint'
  | 'hardware'
  | 'preflight'
  | 'attributes'
  | 'labels'
  | 'agentVersion'
>;

export interface NodeRepository {
  create(
    id: string,
    ownerId: string,
    fingerprint: string,
    fields: EnrollmentFields,
    now: number,
  ): Promise<void>;
  /** A re-install of a known machine: new identity and facts, same node id and history. */
  reenroll(id: string, fields: EnrollmentFields, now: number): Promise<void>;
  /** New hardware facts; `history` (from `historyWrite`) says what the hardware history records. */
  updateHardware(
    id: string,
    fields: Pick<NodeRecord, 'hardware' | 'attributes' | 'labels'>,
    now: number,
    history: HistoryWrite,
  ): Promise<void>;
  /** The newest row of the node's hardware history. */
  latestHardware(id: string): Promise<{ at: number; hardware: HardwareFacts } | undefined>;
  get(id: string): Promise<NodeRecord | undefined>;
  findByThumbprint(thumbprint: string): Promise<NodeRecord | undefined>;
  /** Newest first. */
  findByFingerprint(fingerprint: string): Promise<NodeRecord[]>;
  /** Compare-and-set on the status so that two ops racing cannot both move the same node. */
  transition(
    id: string,
    from: NodeStatus,
    to: NodeStatus,
    reason: string | null,
    actor: string,
    now: number,
  ): Promise<boolean>;
  list(filter: NodeListFilter): Promise<{ nodes: NodeRecord[]; total: number }>;
  countByStatus(): Promise<Record<string, number>>;
  /** The agent version the node said in its latest hello (after an update); false when unchanged. */
  setAgentVersion(id: string, agentVersion: string, now: number): Promise<boolean>;
}
