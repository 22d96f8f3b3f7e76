/**
 * Audits people ask for: ops "audit now" and the owner's "check again" (at most once per node per
 * 10 minutes: 429 with Retry-After), and the audits changes ask for: new hardware (with a flag for
 * ops when the machine now has less than it was approved with) and the first audit after a join.
 */
import { type Policy, auditPolicyOf } from '../../protocol/policy.js';
import type { ActivityLog } from '../core/activity-log.js';
import { type Principal, actorOf } from '../core/auth.js';
import { ConflictError, RateLimitedError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import type { Transactional } from '../core/transactions.js';
import type { FlagRepository } from '../nodes/flag-repository.js';
import type { NodeRecord, NodeRepository } from '../nodes/node-repository.js';
import type { AuditRecord, AuditRepository } from './audit-repository.js';
import {
  type AuditTrigger,
  TRIGGER_PRIORITY,
  ownerRetryAt,
  retryAfterSeconds,
  waitText,
} from './audit-rules.js';
import { firstState, interval } from './audit-transitions.js';
import { hardwareShortfalls } from './hardware-regression.js';

type Repos = Transactional<{
  audits: AuditRepository;
  nodes: NodeRepository;
  flags: FlagRepository;
  activity: ActivityLog;
}>;

export interface RequestDeps {
  repos: Repos;
  policy: Policy;
  now: () => number;
  kick: () => void;
}

const AUDITED: readonly NodeRecord['status'][] = ['approved', 'active'];

/** The node's waiting audit, or a new one: one queued audit per node at a time. */
async function queueAudit(
  tx: Repos,
  nodeId: string,
  trigger: AuditTrigger,
  at: number,
  requestedBy: string | null,
): Promise<AuditRecord> {
  const waiting = (await tx.audits.openFor([nodeId])).find((a) => a.status === 'queued');
  if (waiting) return waiting;
  const id = newId('aud');
  await tx.audits.create({
    id,
    nodeId,
    trigger,
    priority: TRIGGER_PRIORITY[trigger],
    requestedAt: at,
    requestedBy,
    notBefore: at,
  });
  const audit = await tx.audits.get(id);
  if (!audit) throw new Error(`audit ${id} vanished`);
  return audit;
}

export function createAuditRequests(deps: RequestDeps) {
  const { repos, now } = deps;
  return {
    /** Ops or the owner asks for an audit now (node access already checked). */
    async request(principal: Principal, node: NodeRecord): Promise<AuditRecord> {
      if (!AUDITED.includes(node.status))
        throw new ConflictError(
          `Machine ${node.id} is ${node.status}: only approved machines are audited. Approve it first.`,
          { details: { status: node.status } },
        );
      const trigger: AuditTrigger = principal.role === 'owner' ? 'owner' : 'ops';
      const at = now();
      const audit = await repos.transaction(async (tx) => {
        const state = (await tx.audits.state(node.id)) ?? firstState(node.id, at);
        const retryAt = trigger === 'owner' ? ownerRetryAt(state.ownerRequestedAt, at) : null;
        if (retryAt !== null) {
          throw new RateLimitedError(
            `You asked for a check of this machine ${waitText(at - (state.ownerRequestedAt ?? at))} ago. You can ask again in ${waitText(retryAt - at)}; meanwhile the machine is checked again by itself.`,
            retryAfterSeconds(retryAt, at),
          );
        }
        const queued = await queueAudit(tx, node.id, trigger, at, principal.tokenId);
        await tx.audits.saveState({
          ...state,
          ownerRequestedAt: trigger === 'owner' ? at : state.ownerRequestedAt,
          updatedAt: at,
        });
        await tx.activity.record(
          at,
          actorOf(principal),
          'node.audit_requested',
          { type: 'node', id: node.id },
          { auditId: queued.id, trigger },
        );
        return queued;
      });
      deps.kick();
      return audit;
    },

    /**
     * A node became approved: a node never audited gets its schedule (the first audit after the
     * join) and its grace starts now. An audited node keeps its state and schedule.
     */
    async approved(nodeId: string): Promise<boolean> {
      const at = now();
      const started = await repos.transaction(async (tx) => {
        const state = await tx.audits.state(nodeId);
        if (state && state.state !== 'never') return false;
        await tx.audits.saveState(
          state ? { ...state, nextAuditAt: state.nextAuditAt ?? at, updatedAt: at } : firstState(nodeId, at),
        );
        await tx.audits.startInterval(interval(nodeId, 'never', at, auditPolicyOf(deps.policy), null));
        return true;
      });
      deps.kick();
      return started;
    },

    /** The node joined the cluster: its first audit runs now. */
    async joined(nodeId: string): Promise<void> {
      const at = now();
      await repos.transaction(async (tx) => {
        const state = await tx.audits.state(nodeId);
        if (!state || state.lastAuditId !== null) return;
        await tx.audits.saveState({ ...state, nextAuditAt: at, nextTrigger: 'join', updatedAt: at });
      });
      deps.kick();
    },

    /**
     * A new hardware snapshot: an audited node is audited again, and flagged when it now has less
     * than it was approved with. A node never approved waits for its approval, and one not audited
     * yet for its first audit (after the join: the snapshot a new node sends on connecting differs
     * from the enrollment's only in what it measures live).
     */
    async hardwareChanged(nodeId: string): Promise<string[]> {
      const node = await repos.nodes.get(nodeId);
      if (!node || node.status === 'revoked' || node.status === 'rejected') return [];
      const approved = await repos.audits.approvedHardware(nodeId);
      const shortfalls = approved ? hardwareShortfalls(approved, node.hardware, deps.policy) : [];
      const at = now();
      await repos.transaction(async (tx) => {
        const state = await tx.audits.state(nodeId);
        if (!state) return;
        if (shortfalls.length > 0) {
          await tx.flags.add(
            nodeId,
            'hardware-shortfall',
            `The machine now reports less than it was approved with: ${shortfalls.join('; ')}. It is audited again.`,
            { shortfalls },
            at,
          );
          await tx.activity.record(
            at,
            { type: 'node', id: nodeId },
            'node.hardware_shortfall',
            { type: 'node', id: nodeId },
            { shortfalls },
          );
        }
        if (state.lastAuditId !== null) await queueAudit(tx, nodeId, 'hardware', at, null);
      });
      deps.kick();
      return shortfalls;
    },
  };
}
export type AuditRequests = ReturnType<typeof createAuditRequests>;
