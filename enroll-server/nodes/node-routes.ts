/** Nodes: list and detail (scoped by role), and the ops actions approve / reject / revoke. */
import { Type } from 'typebox';
import { principalOf } from '../core/auth.js';
import type { App } from '../core/http.js';
import { IdParams, Paging, errors } from '../core/schemas.js';
import type { AuditStateSource } from './audit-state-view.js';
import type { FlagRepository } from './flag-repository.js';
import type { NodeRepository } from './node-repository.js';
import type { NodeService } from './node-service.js';
import type { PresenceSource } from './presence-view.js';
import {
  DETAIL_FLAGS,
  NodeDetailSchema,
  NodeFlagSchema,
  NodeListQuery,
  NodeSummarySchema,
  nodeDetailView,
  flagView,
  nodeSummaryView,
} from './schemas.js';

export interface NodeRouteDeps {
  nodes: NodeService;
  repos: { nodes: NodeRepository; flags: FlagRepository };
  presence: PresenceSource;
  audits: AuditStateSource;
  now: () => number;
}

const ReasonBody = Type.Object(
  { reason: Type.String({ minLength: 1, maxLength: 2000 }) },
  { additionalProperties: false },
);
const NoteBody = Type.Object(
  { note: Type.Optional(Type.String({ maxLength: 2000 })) },
  { additionalProperties: false },
);

export function nodeRoutes(app: App, ctx: NodeRouteDeps): void {
  const readers = { auth: ['admin', 'ops', 'reviewer', 'owner'] as const };
  const ops = { auth: ['admin', 'ops'] as const };
  const detail = async (id: string) => {
    const node = await ctx.repos.nodes.get(id);
    if (!node) throw new Error(`node ${id} vanished`);
    const at = ctx.now();
    const [presence, flags, audits] = await Promise.all([
      ctx.presence.view(id, at, { exact: true }),
      ctx.repos.flags.forNode(id, DETAIL_FLAGS, 0),
      ctx.audits.views([id], at),
    ]);
    return nodeDetailView(node, presence, flags, audits.get(id));
  };

  app.get(
    '/v1/nodes',
    {
      schema: {
        operationId: 'listNodes',
        tags: ['nodes'],
        summary: 'List nodes (owners see their own)',
        querystring: NodeListQuery,
        response: {
          200: Type.Object({ nodes: Type.Array(NodeSummarySchema), total: Type.Integer() }),
          ...errors(400, 401, 403),
        },
      },
      config: readers,
    },
    async (request) => {
      const { nodes, total } = await ctx.nodes.list(principalOf(request), request.query);
      const at = ctx.now();
      const [views, audits] = await Promise.all([
        Promise.all(nodes.map((n) => ctx.presence.view(n.id, at))),
        ctx.audits.views(
          nodes.map((n) => n.id),
          at,
        ),
      ]);
      return { nodes: nodes.map((n, i) => nodeSummaryView(n, views[i]!, audits.get(n.id))), total };
    },
  );

  app.get(
    '/v1/nodes/:id',
    {
      schema: {
        operationId: 'getNode',
        tags: ['nodes'],
        summary: 'Node detail',
        params: IdParams,
        response: { 200: NodeDetailSchema, ...errors(401, 403, 404) },
      },
      config: readers,
    },
    async (request) => detail((await ctx.nodes.get(principalOf(request), request.params.id)).id),
  );

  app.get(
    '/v1/nodes/:id/flags',
    {
      schema: {
        tags: ['nodes'],
        summary: "A node's flags, most recently seen first (paged)",
        params: IdParams,
        querystring: Type.Object(Paging),
        response: {
          200: Type.Object({ flags: Type.Array(NodeFlagSchema), total: Type.Integer() }),
          ...errors(400, 401, 403, 404),
        },
      },
      config: readers,
    },
    async (request) => {
      const node = await ctx.nodes.get(principalOf(request), request.params.id);
      const { limit = 100, offset = 0 } = request.query;
      const page = await ctx.repos.flags.forNode(node.id, limit, offset);
      return { flags: page.flags.map(flagView), total: page.total };
    },
  );

  app.post(
    '/v1/nodes/:id/approve',
    {
      schema: {
        operationId: 'approveNode',
        tags: ['nodes'],
        summary: 'Approve a pending node',
        params: IdParams,
        body: Type.Optional(NoteBody),
        response: { 200: NodeDetailSchema, ...errors(401, 403, 404, 409) },
      },
      config: ops,
    },
    async (request) =>
      detail(
        (
          await ctx.nodes.transition(
            principalOf(request),
            request.params.id,
            'approve',
            request.body?.note ?? null,
          )
        ).id,
      ),
  );

  app.post(
    '/v1/nodes/:id/reject',
    {
      schema: {
        operationId: 'rejectNode',
        tags: ['nodes'],
        summary: 'Reject a pending node, with the reason shown on its screen',
        params: IdParams,
        body: ReasonBody,
        response: { 200: NodeDetailSchema, ...errors(400, 401, 403, 404, 409) },
      },
      config: ops,
    },
    async (request) =>
      detail(
        (await ctx.nodes.transition(principalOf(request), request.params.id, 'reject', request.body.reason))
          .id,
      ),
  );

  app.post(
    '/v1/nodes/:id/revoke',
    {
      schema: {
        operationId: 'revokeNode',
        tags: ['nodes'],
        summary: 'Revoke a node: its channel is closed and it may not connect again',
        params: IdParams,
        body: ReasonBody,
        response: { 200: NodeDetailSchema, ...errors(400, 401, 403, 404, 409) },
      },
      config: ops,
    },
    async (request) =>
      detail(
        (await ctx.nodes.transition(principalOf(request), request.params.id, 'revoke', request.body.reason))
          .id,
      ),
  );
}
