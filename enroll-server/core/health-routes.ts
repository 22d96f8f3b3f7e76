/** `/healthz` (the process answers), `/readyz` (the database answers) and `/metrics` (Prometheus). */
import { Type } from 'typebox';
import type { App } from './http.js';
import type { Metrics } from './metrics.js';

export interface HealthRouteDeps {
  ping: () => Promise<boolean>;
  metrics: Metrics;
  /** Sets the gauges that are read at scrape time (nodes by status, connected nodes). */
  beforeScrape: () => Promise<void>;
}

export function healthRoutes(app: App, deps: HealthRouteDeps): void {
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
      ready = await deps.ping();
    } catch {
      ready = false;
    }
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'database unavailable' });
  });

  app.get('/metrics', { schema: { hide: true }, config: { auth: 'public' } }, async (_request, reply) => {
    await deps.beforeScrape();
    return reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
}
