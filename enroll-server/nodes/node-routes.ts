/** Nodes: list and detail (scoped by role), and the ops actions approve / reject / revoke. */
import { Type } from 'typebox';
import { principalOf } from '../core/auth.js';
import type { App, AppContext } from '../core/http.js';
import {
  AuditEntrySchema,
  IdParams,
  NodeDetailSchema,
  NodeListQuery,
  NodeSummarySchema,
  errors,
} from '../core/schemas.js';
import { auditView, nodeDetailView, nodeSummaryView } from '../core/views.js';

const ReasonBody = Type.Object(
  { reason: Type.String({ minLength: 1, maxLength: 2000 }) },
  { additionalProperties: false },
);
const NoteBody = Type.Object(
  { note: Type.Optional(Type.String({ maxLength: 2000 })) },
  { additionalProperties: false },
);

export function nodeRoutes(app: App, ctx: AppContext): void {
  const readers = { auth: ['admin', 'ops', 'reviewer', 'owner'] as const };
  const ops = { auth: ['admin', 'ops'] as const };
  const detail = (id: string) => {
    const node = ctx.repos.nodes.get(id);
    if (!node) throw new Error(`node ${id} vanished`);
    return nodeDetailView(node, ctx.presence.view(id, ctx.now()), ctx.repos.flags.forNode(id));
  };

  app.get(
    '/v1/nodes',
    {
      schema: {
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
      const { nodes, total } = ctx.nodes.list(principalOf(request), request.query);
      const at = ctx.now();
      return { nodes: nodes.map((n) => nodeSummaryView(n, ctx.presence.view(n.id, at))), total };
    },
  );

  app.get(
    '/v1/nodes/:id',
    {
      schema: {
        tags: ['nodes'],
        summary: 'Node detail',
        params: IdParams,
        response: { 200: NodeDetailSchema, ...errors(401, 403, 404) },
      },
      config: readers,
    },
    async (request) => detail(ctx.nodes.get(principalOf(request), request.params.id).id),
  );

  app.post(
    '/v1/nodes/:id/approve',
    {
      schema: {
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
        ctx.nodes.transition(principalOf(request), request.params.id, 'approve', request.body?.note ?? null)
          .id,
      ),
  );

  app.post(
    '/v1/nodes/:id/reject',
    {
      schema: {
        tags: ['nodes'],
        summary: 'Reject a pending node, with the reason shown on its screen',
        params: IdParams,
        body: ReasonBody,
        response: { 200: NodeDetailSchema, ...errors(400, 401, 403, 404, 409) },
      },
      config: ops,
    },
    async (request) =>
      detail(ctx.nodes.transition(principalOf(request), request.params.id, 'reject', request.body.reason).id),
  );

  app.post(
    '/v1/nodes/:id/revoke',
    {
      schema: {
        tags: ['nodes'],
        summary: 'Revoke a node: its channel is closed and it may not connect again',
        params: IdParams,
        body: ReasonBody,
        response: { 200: NodeDetailSchema, ...errors(400, 401, 403, 404, 409) },
      },
      config: ops,
    },
    async (request) =>
      detail(ctx.nodes.transition(principalOf(request), request.params.id, 'revoke', request.body.reason).id),
  );

  app.get(
    '/v1/audit',
    {
      schema: {
        tags: ['audit'],
        summary: 'Who did what, newest first',
        querystring: Type.Object({
          targetType: Type.Optional(Type.String({ maxLength: 32 })),
          targetId: Type.Optional(Type.String({ maxLength: 64 })),
          action: Type.Optional(Type.String({ maxLength: 64 })),
          before: Type.Optional(
            Type.Integer({ minimum: 1, description: 'entries with an id below this (paging)' }),
          ),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
        }),
        response: { 200: Type.Object({ entries: Type.Array(AuditEntrySchema) }), ...errors(401, 403) },
      },
      config: ops,
    },
    async (request) => {
      const { limit = 100, ...rest } = request.query;
      return { entries: ctx.repos.audit.list({ ...rest, limit }).map(auditView) };
    },
  );
}
