/**
 * Audit routes (DESIGN.md "Continuous audits"): ask for an audit (ops; the owner for their own
 * machine, rate-limited), a node's audit history (newest first), the diagnostics bundle of a
 * failed audit, and the fleet summary (ops). Another owner's node answers 404.
 */
import { Type } from 'typebox';
import { principalOf } from '../core/auth.js';
import type { App } from '../core/http.js';
import { IdParams, errors } from '../core/schemas.js';
import type { NodeService } from '../nodes/node-service.js';
import type { AuditService } from './audit-service.js';
import { AuditListSchema, AuditQueuedSchema, AuditSummarySchema, auditView } from './schemas.js';

export interface AuditRouteDeps {
  audits: AuditService;
  nodes: NodeService;
  now: () => number;
}

const AuditParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64 }),
  auditId: Type.String({ pattern: '^aud_[a-z0-9]{1,60}$' }),
});

export function auditRoutes(app: App, ctx: AuditRouteDeps): void {
  const { audits, nodes } = ctx;

  app.post(
    '/v1/nodes/:id/audits',
    {
      schema: {
        tags: ['audits'],
        summary: 'Audit a node now (ops; owners for their own machine, at most once per 10 minutes)',
        params: IdParams,
        response: { 202: AuditQueuedSchema, ...errors(401, 403, 404, 409, 429) },
      },
      config: { auth: ['admin', 'ops', 'owner'] },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const node = await nodes.get(principal, request.params.id);
      const audit = await audits.request(principal, node);
      const status = audit.status === 'running' ? 'running' : 'queued';
      return reply.code(202).send({ id: audit.id, status });
    },
  );

  app.get(
    '/v1/nodes/:id/audits',
    {
      schema: {
        tags: ['audits'],
        summary: "A node's audits with their checks and figures, newest first",
        params: IdParams,
        querystring: Type.Object({
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 20 })),
          offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
        }),
        response: { 200: AuditListSchema, ...errors(400, 401, 403, 404) },
      },
      config: { auth: ['admin', 'ops', 'reviewer', 'owner'] },
    },
    async (request) => {
      const node = await nodes.get(principalOf(request), request.params.id);
      const { audits: list, total } = await audits.history(
        node.id,
        request.query.limit ?? 20,
        request.query.offset ?? 0,
      );
      return { audits: list.map((a) => auditView(a, audits.progressOf(a.id))), total };
    },
  );

  app.get(
    '/v1/nodes/:id/audits/:auditId/diagnostics',
    {
      schema: {
        tags: ['audits'],
        summary: 'Download the diagnostics bundle collected after a failed audit (text)',
        params: AuditParams,
        response: {
          200: Type.Unknown({ description: 'the bundle as text/plain (an attachment)' }),
          ...errors(401, 403, 404),
        },
      },
      config: { auth: ['admin', 'ops', 'owner'] },
    },
    async (request, reply) => {
      const node = await nodes.get(principalOf(request), request.params.id);
      const bundle = await audits.diagnostics(node.id, request.params.auditId);
      return reply
        .type('text/plain; charset=utf-8')
        .header('x-content-type-options', 'nosniff')
        .header(
          'content-disposition',
          `attachment; filename="${node.id}-${request.params.auditId}-diagnostics.txt"`,
        )
        .send(bundle.text);
    },
  );

  app.get(
    '/v1/audits/summary',
    {
      schema: {
        tags: ['audits'],
        summary: "The fleet's audit states and the failing checks, ranked",
        response: { 200: AuditSummarySchema, ...errors(401, 403) },
      },
      config: { auth: ['admin', 'ops'] },
    },
    async () => audits.summary(ctx.now()),
  );
}
