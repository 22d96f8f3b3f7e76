/**
 * Which nodes our auditor vouches for right now, read from the audits capability's stored state:
 * a node is attested while it is approved or active, its stored audit state is `passing`, and the
 * validity of its last pass has not run out (the next audit due, plus the grace). Nothing is
 * stored here: a failed audit turns the state to `failing` in the audits transaction, which
 * withdraws the attestation at that moment on every replica; the next pass signs anew.
 */
import type { AuditPolicy } from '../../protocol/audit-policy.js';
import {
  type GpuGroup,
  type ProviderAttribute,
  deriveProviderProfile,
  gpuClasses,
} from '../../protocol/attributes.js';
import type { AuditRepository, NodeAuditState } from '../audits/audit-repository.js';
import type { StoredAuditState } from '../audits/audit-rules.js';
import type { NodeRecord, NodeRepository } from '../nodes/node-repository.js';

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

export interface AttestedNode {
  nodeId: string;
  ownerId: string;
  auditId: string;
  /** When the passing audit finished, and until when it vouches for the node (ms). */
  passedAt: number;
  validUntil: number;
  attributes: ProviderAttribute[];
  gpus: GpuGroup[];
  /** Payout GPU classes (`nvidia/rtx4090/24Gi` → GPUs), as the rate card names them. */
  classes: Map<string, number>;
  /** The benchmark figures of the passing audit, by metric name. */
  figures: Record<string, number>;
}

export interface AttestedFleetDeps {
  audits: AuditRepository;
  nodes: NodeRepository;
  policy: Pick<AuditPolicy, 'intervalHours' | 'graceMinutes'>;
}

/** Until when a pass vouches for the node: the next audit due (never earlier than one interval), plus the grace. */
export function attestationValidUntil(
  state: Pick<NodeAuditState, 'lastPassedAt' | 'nextAuditAt'>,
  policy: Pick<AuditPolicy, 'intervalHours' | 'graceMinutes'>,
): number {
  const passedAt = state.lastPassedAt ?? 0;
  const due = Math.max(state.nextAuditAt ?? 0, passedAt + policy.intervalHours * HOUR_MS);
  return due + policy.graceMinutes * MINUTE_MS;
}

export function createAttestedFleet(deps: AttestedFleetDeps) {
  async function fromState(
    node: NodeRecord,
    state: NodeAuditState | undefined,
    now: number,
  ): Promise<AttestedNode | undefined> {
    if (node.status !== 'approved' && node.status !== 'active') return undefined;
    if (!state || state.state !== 'passing' || !state.lastAuditId || state.lastPassedAt === null)
      return undefined;
    const validUntil = attestationValidUntil(state, deps.policy);
    if (now >= validUntil) return undefined;
    const audit = await deps.audits.get(state.lastAuditId);
    if (!audit || audit.status !== 'passed') return undefined;
    const hardware = (await deps.audits.approvedHardware(node.id)) ?? node.hardware;
    const profile = deriveProviderProfile(hardware);
    const figures: Record<string, number> = {};
    for (const check of audit.checks ?? []) Object.assign(figures, check.metrics);
    return {
      nodeId: node.id,
      ownerId: node.ownerId,
      auditId: audit.id,
      passedAt: state.lastPassedAt,
      validUntil,
      attributes: profile.attributes,
      gpus: profile.gpus,
      classes: gpuClasses(hardware),
      figures,
    };
  }

  return {
    /** The node's current attestation facts, or undefined when our auditor does not vouch for it. */
    async node(node: NodeRecord, now: number): Promise<AttestedNode | undefined> {
      return fromState(node, await deps.audits.state(node.id), now);
    },

    /** Every attested node, in id order. */
    async all(now: number): Promise<AttestedNode[]> {
      return (await this.split(now, ['passing'])).attested;
    },

    /** Audited nodes in `states`, attested or (approved or active, but) not, in id order. */
    async split(
      now: number,
      stored: readonly StoredAuditState[],
    ): Promise<{ attested: AttestedNode[]; unattested: NodeRecord[] }> {
      const ids = [...(await deps.audits.nodeIdsInState(stored))].sort();
      const states = new Map((await deps.audits.states(ids)).map((s) => [s.nodeId, s]));
      const attested: AttestedNode[] = [];
      const unattested: NodeRecord[] = [];
      for (const id of ids) {
        const node = await deps.nodes.get(id);
        if (!node) continue;
        const a = await fromState(node, states.get(id), now);
        if (a) attested.push(a);
        else if (node.status === 'approved' || node.status === 'active') unattested.push(node);
      }
      return { attested, unattested };
    },
  };
}

export type AttestedFleet = ReturnType<typeof createAttestedFleet>;
