/** Node queries scoped by role, and the ops status machine (approve, reject, revoke) with the activity log. */
import type { NodeStatus } from '../../protocol/api.js';
import type { ActivityLog } from '../core/activity-log.js';
import type { NodeEvent, EventOutbox } from '../core/domain-events.js';
import { type Principal, actorOf } from '../core/auth.js';
import { InvalidTransitionError, NotFoundError } from '../core/errors.js';
import type { Transactional } from '../core/transactions.js';
import type { AuditStateFilter, AuditStateName, AuditStateSource } from './audit-state-view.js';
import type { NodeEvents } from './node-events.js';
import type { NodeListFilter, NodeRecord, NodeRepository } from './node-repository.js';
import type { PresenceSource } from './presence-view.js';

type Action = 'approve' | 'reject' | 'revoke';

/** What owners and webhooks hear of a transition (notifications/). */
function eventOf(action: Action, node: NodeRecord, reason: string | null): NodeEvent {
  const ids = { nodeId: node.id, ownerId: node.ownerId };
  if (action === 'approve') return { type: 'node.approved', ...ids, note: reason };
  return { type: action === 'reject' ? 'node.rejected' : 'node.revoked', ...ids, reason: reason ?? '' };
}

const TRANSITIONS: Record<Action, { from: readonly NodeStatus[]; to: NodeStatus; verb: string }> = {
  approve: { from: ['pending'], to: 'approved', verb: 'approved' },
  reject: { from: ['pending'], to: 'rejected', verb: 'rejected' },
  revoke: { from: ['pending', 'approved', 'active', 'rejected'], to: 'revoked', verb: 'revoked' },
};

export interface NodeQuery {
  status?: NodeStatus;
  online?: boolean;
  q?: string;
  agentVersion?: string;
  ownerId?: string;
  audit?: AuditStateName;
  limit?: number;
  offset?: number;
}

export interface NodeServiceDeps {
  repos: Transactional<{ nodes: NodeRepository; activity: ActivityLog; events: EventOutbox }>;
  presence: PresenceSource;
  audits: AuditStateSource;
  events: NodeEvents;
  now: () => number;
}

/** Both filters hold: ids in both lists, excluded ids from either. */
function narrow(filter: NodeListFilter, by: AuditStateFilter): void {
  if (by.ids) {
    const allowed = new Set(by.ids);
    filter.ids = filter.ids ? filter.ids.filter((id) => allowed.has(id)) : by.ids;
  }
  if (by.excludeIds) filter.excludeIds = [...(filter.excludeIds ?? []), ...by.excludeIds];
}

export function createNodeService({ repos, presence, audits, events, now }: NodeServiceDeps) {
  return {
    /** A node the principal may see; another owner's node is "not found", never "forbidden". */
    async get(principal: Principal, id: string): Promise<NodeRecord> {
      const node = await repos.nodes.get(id);
      if (!node || (principal.role === 'owner' && node.ownerId !== principal.ownerId)) {
        throw new NotFoundError(`Node ${id} not found.`);
      }
      return node;
    },

    async list(principal: Principal, query: NodeQuery): Promise<{ nodes: NodeRecord[]; total: number }> {
      const filter: NodeListFilter = {
        ownerId: principal.role === 'owner' ? (principal.ownerId ?? '') : query.ownerId,
        status: query.status,
        q: query.q,
        agentVersion: query.agentVersion,
        limit: query.limit ?? 100,
        offset: query.offset ?? 0,
      };
      if (query.online !== undefined) await presence.current?.();
      if (query.online === true) filter.ids = presence.onlineNodeIds();
      if (query.online === false) filter.excludeIds = presence.onlineNodeIds();
      if (query.audit) narrow(filter, await audits.filter(query.audit, now()));
      return repos.nodes.list(filter);
    },

    async transition(
      principal: Principal,
      id: string,
      action: Action,
      reason: string | null,
    ): Promise<NodeRecord> {
      const rule = TRANSITIONS[action];
      const at = now();
      const node = await repos.transaction(async (tx) => {
        const current = await tx.nodes.get(id);
        if (!current) throw new NotFoundError(`Node ${id} not found.`);
        if (!rule.from.includes(current.status)) {
          throw new InvalidTransitionError(`Node ${id} is ${current.status}; it cannot be ${rule.verb}.`, {
            details: { status: current.status, allowedFrom: rule.from },
          });
        }
        await tx.nodes.transition(id, current.status, rule.to, reason, principal.tokenId, at);
        await tx.activity.record(
          at,
          actorOf(principal),
          `node.${rule.verb}`,
          { type: 'node', id },
          { from: current.status, reason },
        );
        await tx.events.append(at, eventOf(action, current, reason));
        return (await tx.nodes.get(id)) ?? current;
      });
      events.emit({ nodeId: id, status: node.status, reason });
      return node;
    },
  };
}
export type NodeService = ReturnType<typeof createNodeService>;
