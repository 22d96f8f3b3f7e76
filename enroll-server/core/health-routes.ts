import { Type } from 'typebox';
import type { App, AppContext } from './http.js';

export function healthRoutes(app: App, ctx: AppContext): void {
  app.get(
    '/healthz',
    {
      schema: { hide: true, response: { 200: Type.Object({ status: Type.String() }) } },
      config: { auth: 'public' },
    },
    async () => ({ status: 'ok' }),
  );

  app.get('/readyz', { schema: { hide: true }, config: { auth: 'public' } }, async (_request, reply) => {
    let ready: boolean;
    try {
      ready = ctx.repos.ping();
    } catch {
      ready = false;
    }
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'database unavailable' });
  });

  app.get('/metrics', { schema: { hide: true }, config: { auth: 'public' } }, async (_request, reply) => {
    for (const [status, n] of Object.entries(ctx.repos.nodes.countByStatus()))
      ctx.metrics.nodesByStatus.set({ status }, n);
    ctx.metrics.connectedNodes.set(ctx.hub.connected);
    return reply.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics());
  });
}
