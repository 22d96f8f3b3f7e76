/**
 * Prometheus metrics (`GET /metrics`): a registry per app, request counters and domain counters,
 * and prom-client's process metrics. The output must pass `promtool check metrics`
 * (test/integration/metrics-promtool.test.ts).
 */
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * prom-client's default process metrics that break the naming rules: gauges named `*_total`
 * (a suffix reserved for counters). `homenode_nodejs_active_resources{type}` stays and covers
 * handles and requests alike (Node's public `getActiveResourcesInfo()`); its sum is the total.
 * The per-type handle and request gauges go too: they read Node's private `_getActiveHandles()`
 * and often have no samples at all.
 */
const DROPPED_DEFAULT_METRICS = [
  'homenode_nodejs_active_handles_total',
  'homenode_nodejs_active_requests_total',
  'homenode_nodejs_active_resources_total',
  'homenode_nodejs_active_handles',
  'homenode_nodejs_active_requests',
];

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'homenode_' });
  for (const name of DROPPED_DEFAULT_METRICS) registry.removeSingleMetric(name);
  return {
    registry,
    httpRequests: new Counter({
      name: 'homenode_http_requests_total',
      help: 'HTTP requests answered, by method, route and status code',
      labelNames: ['method', 'route', 'status'] as const,
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'homenode_http_request_duration_seconds',
      help: 'HTTP request duration',
      labelNames: ['route'] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    enrollments: new Counter({
      name: 'homenode_enrollments_total',
      help: 'Enrollment attempts, by result (created, reinstall, retry, or the error code)',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    controlConnects: new Counter({
      name: 'homenode_control_connects_total',
      help: 'Control-channel sessions opened (first connections and reconnects)',
      registers: [registry],
    }),
    controlMessages: new Counter({
      name: 'homenode_control_messages_total',
      help: 'Control-channel frames received, by message type (invalid for refused frames)',
      labelNames: ['type'] as const,
      registers: [registry],
    }),
    controlAuthFailures: new Counter({
      name: 'homenode_control_auth_failures_total',
      help: 'Control-channel connections refused, by reason',
      labelNames: ['code'] as const,
      registers: [registry],
    }),
    usageReports: new Counter({
      name: 'homenode_usage_reports_stored_total',
      help: 'Usage reports stored (resends of a stored report are not counted)',
      registers: [registry],
    }),
    connectedNodes: new Gauge({
      name: 'homenode_connected_nodes',
      help: 'Nodes with a live control session',
      registers: [registry],
    }),
    auditsRunning: new Gauge({
      name: 'homenode_audits_running',
      help: 'Audits running on nodes now (at most audit.maxConcurrent)',
      registers: [registry],
    }),
    auditsQueued: new Gauge({
      name: 'homenode_audits_queued',
      help: 'Audits waiting for a free slot or for their node to connect',
      registers: [registry],
    }),
    nodesByStatus: new Gauge({
      name: 'homenode_nodes',
      help: 'Nodes by status',
      labelNames: ['status'] as const,
      registers: [registry],
    }),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;

export function registerRequestMetrics(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onResponse', async (request, reply) => {
    // The route pattern, not the URL, keeps the label set small.
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpRequests.inc({ method: request.method, route, status: String(reply.statusCode) });
    metrics.httpDuration.observe({ route }, reply.elapsedTime / 1000);
  });
}
