/** `/healthz` (the process answers), `/readyz` (the database answers) and `/metrics` (Prometheus). */
import { Type } from 'typebox';
import type { App } from './http.js';
import type { Metrics } from './metrics.js';
import { fileAnswer } from './schemas.js';

export interface HealthRouteDeps {
  ping: () => Promise<boolean>;
  metrics: Metrics;
  /** Sets the gauges that are read at scrape time (nodes by status, connected nodes). */
  beforeScrape: () => Promise<void>;
}

const Status = Type.Object({ status: Type.String() });

export function healthRoutes(app: App, deps: HealthRouteDeps): void {
  app.get(
    '/healthz',
    {
      schema: {
        operationId: 'getHealth',
        tags: ['health'],
        summary: 'Liveness: the process answers',
        response: { 200: Type.Object({ status: Type.Literal('ok') }, { description: 'The process is up' }) },
      },
      config: { auth: 'public' },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        operationId: 'getReadiness',
        tags: ['health'],
        summary: 'Readiness: the database answers',
        response: {
          200: Type.Object(Status.properties, { description: 'Ready: `{ "status": "ready" }`' }),
          503: Type.Object(Status.properties, {
            description: 'The database does not answer: `{ "status": "database unavailable" }`',
          }),
        },
      },
      config: { auth: 'public' },
    },
    async (_request, reply) => {
      let ready: boolean;
      try {
        ready = await deps.ping();
      } catch {
        ready = false;
      }
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'database unavailable' });
    },
  );

  app.get(
    '/metrics',
    {
      schema: {
        operationId: 'getMetrics',
        tags: ['health'],
        summary: 'Prometheus metrics (text exposition format 0.0.4)',
        response: {
          200: fileAnswer(
            'text/plain',
            'Counters and gauges of requests, enrollments, the control channel, usage reports and the process',
          ),
        },
      },
      config: { auth: 'public' },
    },
    async (_request, reply) => {
      await deps.beforeScrape();
      return reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
    },
  );
}
