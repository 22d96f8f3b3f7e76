/**
 * `buildApp(config, deps)`: the whole enroll-server as a ready Fastify instance, wired by hand.
 * This is the one composition root: the store's repositories go into the services, the services
 * into the routes (docs/architecture.md). Tests call it directly; only `main.ts` listens.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import cookie from '@fastify/cookie';
import Fastify, { type FastifyServerOptions } from 'fastify';
import swagger from '@fastify/swagger';
import websocket from '@fastify/websocket';
import { TypeBoxValidatorCompiler, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { MAX_FRAME_BYTES } from '../protocol/control.js';
import { accountRoutes } from './accounts/account-routes.js';
import { type BootstrapResult, ensureBootstrapToken } from './accounts/bootstrap-token.js';
import { createCredentials } from './accounts/credentials.js';
import { type SignInRateLimit, sessionRoutes } from './accounts/session-routes.js';
import { type SessionLimits, createSessionService } from './accounts/session-service.js';
import { auditRoutes } from './audits/audit-routes.js';
import { type AuditService, createAuditService } from './audits/audit-service.js';
import { netProbeRoutes } from './audits/net-probe-routes.js';
import { commandRoutes } from './control/command-routes.js';
import { ControlHub } from './control/hub.js';
import { networkRoutes } from './control/network-routes.js';
import { nodeChannelRoutes } from './control/node-channel-routes.js';
import { ReplayCache } from './control/node-token.js';
import { presenceRoutes } from './control/presence-routes.js';
import { PresenceTracker } from './control/presence-tracker.js';
import { shellRoutes } from './control/shell-routes.js';
import { activityRoutes } from './core/activity-routes.js';
import { registerAuth } from './core/auth.js';
import { backupRoutes } from './core/backup-routes.js';
import type { ServerConfig } from './core/config.js';
import { registerErrorHandler } from './core/error-handler.js';
import { FailureLimiter } from './core/failure-limiter.js';
import { healthRoutes } from './core/health-routes.js';
import type { App } from './core/http.js';
import { newId } from './core/ids.js';
import { type Metrics, createMetrics, registerRequestMetrics } from './core/metrics.js';
import { type Db, openDatabase } from './core/sqlite/database.js';
import { createEnrollmentService } from './enrollment/enrollment-service.js';
import { enrollmentRoutes } from './enrollment/enrollment-routes.js';
import { keyRoutes } from './enrollment/key-routes.js';
import { createKeyService } from './enrollment/key-service.js';
import { type NodeEvents, createNodeEvents } from './nodes/node-events.js';
import { nodeRoutes } from './nodes/node-routes.js';
import { createNodeService } from './nodes/node-service.js';
import { adjustmentRoutes } from './payouts/adjustment-routes.js';
import { earningsRoutes } from './payouts/earnings-routes.js';
import { outageRoutes } from './payouts/outage-routes.js';
import { createPayoutService } from './payouts/payout-service.js';
import { periodRoutes } from './payouts/period-routes.js';
import { rateCardRoutes } from './payouts/rate-card-routes.js';
import { startLivenessRecord } from './payouts/server-liveness.js';
import type { Repositories, Store } from './repositories.js';
import { createSqliteStore } from './sqlite-store.js';
import { registerDashboard } from './web/dashboard-plugin.js';

export type { BootstrapResult } from './accounts/bootstrap-token.js';

/** Where `scripts/build-web.ts` writes the dashboard bundle. */
export const DEFAULT_WEB_DIR = join(import.meta.dirname, '..', 'dist', 'web');

export const SERVER_VERSION = '0.1.0';

export interface AppDeps {
  /** The clock (ms since epoch). Domain code never reads the time itself. */
  now?: () => number;
  /** Fastify logger option: false in tests, pino options in main. */
  logger?: FastifyServerOptions['logger'];
  /** An open SQLite database (the caller closes it); default: `config.dbPath`, closed with the app. */
  db?: Db;
  /** The built dashboard (default `dist/web`). */
  webDir?: string;
  /** Dashboard session lifetimes and sign-in rate limits (defaults in accounts/). */
  sessionLimits?: SessionLimits;
  signInRateLimit?: SignInRateLimit;
  /** How often the audit scheduler runs (default 5 s); 0: never by itself (tests call `tick`). */
  auditTickMs?: number;
  /** Randomness for the audit schedule's jitter (default Math.random). */
  random?: () => number;
}

/** What the running app holds, for main.ts and for tests that look inside. */
export interface AppContext {
  config: ServerConfig;
  repos: Repositories;
  store: Store;
  now: () => number;
  metrics: Metrics;
  presence: PresenceTracker;
  events: NodeEvents;
  hub: ControlHub;
  audits: AuditService;
}

declare module 'fastify' {
  interface FastifyInstance {
    homenode: { context: AppContext; bootstrap: BootstrapResult };
  }
}

/** Log redaction: credentials never reach the log. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  '*.installationKey',
  '*.token',
  '*.key',
  '*.password',
];

export async function buildApp(config: ServerConfig, deps: AppDeps = {}): Promise<App> {
  const now = deps.now ?? Date.now;
  const store = createSqliteStore(deps.db ?? openDatabase(config.dbPath), { closeDb: !deps.db });
  const { repos } = store;
  const app: App = Fastify({
    logger: deps.logger ?? false,
    trustProxy: config.trustProxy,
    bodyLimit: 1024 * 1024,
    genReqId: () => randomBytes(8).toString('hex'),
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(TypeBoxValidatorCompiler);

  const metrics = createMetrics();
  const events = createNodeEvents((error) => app.log.error({ err: error }, 'node event listener failed'));
  // Sessions left open by a crash end at their last sign of life.
  const closedAfterCrash = await repos.presence.closeAllOpen('server-restart');
  const presence = new PresenceTracker({
    repo: repos.presence,
    now,
    newId: () => newId('pi'),
    enrolledAt: async (nodeId) => (await repos.nodes.get(nodeId))?.enrolledAt,
  });
  const hub = new ControlHub({
    policy: config.policy,
    cluster: config.cluster,
    repos,
    presence,
    events,
    metrics,
    now,
    log: app.log.child({ module: 'control' }),
  });
  const flushPresence = () => hub.flushPresence();
  const audits = createAuditService({
    repos,
    channel: hub,
    events,
    policy: config.policy,
    publicUrl: config.publicUrl,
    now,
    random: deps.random,
    log: app.log.child({ module: 'audits' }),
    onTick: ({ running, queued }) => {
      metrics.auditsRunning.set(running);
      metrics.auditsQueued.set(queued);
    },
  });
  hub.onAudits(audits.listener);
  const windowMs = config.enrollRateLimit.windowSeconds * 1000;
  const enrollment = createEnrollmentService({
    repos,
    policy: config.policy,
    now,
    events,
    keyLimiter: new FailureLimiter({ windowMs, limit: config.enrollRateLimit.perKeyId, now }),
    addressLimiter: new FailureLimiter({ windowMs, limit: config.enrollRateLimit.perAddress, now }),
    onResult: (result) => metrics.enrollments.inc({ result }),
  });
  const keys = createKeyService({ repos, limits: config.keys, now });
  const nodes = createNodeService({ repos, presence, audits: audits.stateSource, events, now });
  const payouts = createPayoutService({ repos, now, flushPresence });
  const sessions = createSessionService({ repos, now, limits: deps.sessionLimits });

  const stopLiveness = await startLivenessRecord(repos.payouts, now, (error) =>
    app.log.error({ err: error }, 'liveness record failed'),
  );
  if (closedAfterCrash > 0)
    app.log.warn(
      { event: 'presence_recovered', intervals: closedAfterCrash },
      'closed presence intervals left open',
    );
  const context: AppContext = { config, repos, store, now, metrics, presence, events, hub, audits };
  app.decorate('homenode', { context, bootstrap: await ensureBootstrapToken(repos, config, now()) });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Home Node enroll-server', version: SERVER_VERSION },
      servers: [{ url: config.publicUrl }],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  // Close the nodes' sessions cleanly (and write presence) before the WebSocket plugin drops them.
  app.addHook('preClose', async () => {
    await audits.stop();
    await hub.close();
  });
  await app.register(websocket, { options: { maxPayload: MAX_FRAME_BYTES } });
  app.addHook('onClose', async () => {
    await stopLiveness();
    await store.close();
  });
  registerErrorHandler(app);
  await app.register(cookie);
  registerAuth(app, createCredentials(repos.tokens, sessions));
  registerRequestMetrics(app, metrics);

  // Registered in the order the OpenAPI document lists them.
  healthRoutes(app, {
    ping: () => store.ping(),
    metrics,
    beforeScrape: async () => {
      for (const [status, n] of Object.entries(await repos.nodes.countByStatus()))
        metrics.nodesByStatus.set({ status }, n);
      metrics.connectedNodes.set(hub.connected);
    },
  });
  accountRoutes(app, { repos, now });
  keyRoutes(app, { keys, now });
  enrollmentRoutes(app, { enrollment, policy: config.policy, now });
  nodeRoutes(app, { nodes, repos, presence, audits: audits.stateSource, now });
  activityRoutes(app, { activity: repos.activity });
  // Nodes' JWTs are single-use across the control channel and the network probe.
  const replay = new ReplayCache(now);
  nodeChannelRoutes(app, { hub, repos, policy: config.policy, metrics, now, replay });
  auditRoutes(app, { audits, nodes, now });
  netProbeRoutes(app, { repos, replay, policy: config.policy, now });
  commandRoutes(app, { hub, repos, now });
  shellRoutes(app, {
    hub,
    repos,
    now,
    shell: config.shell,
    dataDir: config.dataDir,
    log: app.log.child({ module: 'shell' }),
  });
  networkRoutes(app, { repos, overlayCidr: config.cluster.overlayCidr });
  rateCardRoutes(app, { repos, now });
  periodRoutes(app, { payouts, repos });
  adjustmentRoutes(app, { repos, now });
  outageRoutes(app, { repos, now });
  earningsRoutes(app, { payouts });
  backupRoutes(app, {
    dataDir: config.dataDir,
    activity: repos.activity,
    backup: (destination) => store.backup(destination),
    flush: flushPresence,
    now,
  });
  presenceRoutes(app, { nodes, presence, repos, now });
  sessionRoutes(app, {
    repos,
    sessions,
    now,
    publicUrl: config.publicUrl,
    rateLimit: deps.signInRateLimit,
  });
  // web
  registerDashboard(app, deps.webDir ?? DEFAULT_WEB_DIR);
  app.get('/openapi.json', { schema: { hide: true }, config: { auth: 'public' } }, async () => app.swagger());

  await app.ready();
  const tickMs = deps.auditTickMs ?? 5_000;
  if (tickMs > 0) audits.start(tickMs);
  return app;
}
