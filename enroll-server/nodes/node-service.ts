/** Node queries scoped by role, and the ops status machine (approve, reject, revoke) with audit. */
import type { NodeStatus } from '../../protocol/api.js';
import { InvalidTransitionError, NotFoundError } from '../core/errors.js';
import { type Principal, actorOf } from '../core/auth.js';
import type { Repositories } from '../sqlite-store.js';
import type { NodeListFilter, NodeRecord } from './sqlite/node-repository.js';
import type { NodeEvents } from './node-events.js';
import type { PresenceSource } from './presence-view.js';

type Action = 'approve' | 'reject' | 'revoke';

const TRANSITIONS: Record<Action, { from: readonly NodeStatus[]; to: NodeStatus; verb: string }> = {
  approve: { from: ['pending'], to: 'approved', verb: 'approved' },
  reject: { from: ['pending'], to: 'rejected', verb: 'rejected' },
  revoke: { from: ['pending', 'approved', 'active', 'rejected'], to: 'revoked', verb: 'revoked' },
};

export interface NodeQuery {
  status?: NodeStatus;
  online?: boolean;
  q?: string;
  ownerId?: string;
  limit?: number;
  offset?: number;
}

export function createNodeService(deps: {
  repos: Repositories;
  presence: PresenceSource;
  events: NodeEvents;
  now: () => number;
}) {
  const { repos, presence, events, now } = deps;

  return {
    /** A node the principal may see; another owner's node is "not found", never "forbidden". */
    get(principal: Principal, id: string): NodeRecord {
      const node = repos.nodes.get(id);
      if (!node || (principal.role === 'owner' && node.ownerId !== principal.ownerId)) {
        throw new NotFoundError(`Node ${id} not found.`);
      }
      return node;
    },

    list(principal: Principal, query: NodeQuery): { nodes: NodeRecord[]; total: number } {
      const filter: NodeListFilter = {
        ownerId: principal.role === 'owner' ? (principal.ownerId ?? '') : query.ownerId,
        status: query.status,
        q: query.q,
        limit: query.limit ?? 100,
        offset: query.offset ?? 0,
      };
      if (query.online === true) filter.ids = presence.onlineNodeIds();
      if (query.online === false) filter.excludeIds = presence.onlineNodeIds();
      return repos.nodes.list(filter);
    },

    transition(principal: Principal, id: string, action: Action, reason: string | null): NodeRecord {
      const rule = TRANSITIONS[action];
      const at = now();
      const node = repos.transaction(() => {
        const current = repos.nodes.get(id);
        if (!current) throw new NotFoundError(`Node ${id} not found.`);
        if (!rule.from.includes(current.status)) {
          throw new InvalidTransitionError(`Node ${id} is ${current.status}; it cannot be ${rule.verb}.`, {
            details: { status: current.status, allowedFrom: rule.from },
          });
        }
        repos.nodes.transition(id, current.status, rule.to, reason, principal.tokenId, at);
        repos.audit.record(
          at,
          actorOf(principal),
          `node.${rule.verb}`,
          { type: 'node', id },
          { from: current.status, reason },
        );
        return repos.nodes.get(id) ?? current;
      });
      events.emit({ nodeId: id, status: node.status, reason });
      return node;
    },
  };
}
export type NodeService = ReturnType<typeof createNodeService>;
