/**
 * `buildApp(config, deps)`: the whole enroll-server as a ready Fastify instance, wired by hand.
 * Tests call it directly; only `main.ts` listens and handles signals.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import cookie from '@fastify/cookie';
import Fastify, { type FastifyServerOptions } from 'fastify';
import swagger from '@fastify/swagger';
import websocket from '@fastify/websocket';
import { TypeBoxValidatorCompiler, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ServerConfig } from './core/config.js';
import type { App, AppContext } from './core/http.js';
import { ControlHub } from './control/hub.js';
import { PresenceTracker } from './control/presence-tracker.js';
import { MAX_FRAME_BYTES } from '../protocol/control.js';
import { type Db, openDatabase } from './core/sqlite/database.js';
import { newApiToken, newId, sha256Hex } from './core/ids.js';
import { registerAuth } from './core/auth.js';
import { registerErrorHandler } from './core/error-handler.js';
import { registerDashboard } from './web/dashboard-plugin.js';
import { createMetrics, registerRequestMetrics } from './core/metrics.js';
import { type Repositories, createRepositories } from './sqlite-store.js';
import { createSessionRepository } from './accounts/sqlite/session-repository.js';
import { accountRoutes } from './accounts/account-routes.js';
import { backupRoutes } from './core/backup-routes.js';
import { controlRoutes } from './control/command-routes.js';
import { payoutRoutes } from './payouts/period-routes.js';
import { enrollRoutes } from './enrollment/enrollment-routes.js';
import { healthRoutes } from './core/health-routes.js';
import { keyRoutes } from './enrollment/key-routes.js';
import { nodeRoutes } from './nodes/node-routes.js';
import { presenceRoutes } from './control/presence-routes.js';
import { type SignInRateLimit, sessionRoutes } from './accounts/session-routes.js';
import { createEnrollmentService } from './enrollment/enrollment-service.js';
import { FailureLimiter } from './core/failure-limiter.js';
import { createKeyService } from './enrollment/key-service.js';
import { createNodeEvents } from './nodes/node-events.js';
import { createNodeService } from './nodes/node-service.js';
import { createPayoutService } from './payouts/payout-service.js';
import { startLivenessRecord } from './payouts/server-liveness.js';
import { type SessionLimits, createSessionService } from './accounts/session-service.js';

/** Where `scripts/build-web.ts` writes the dashboard bundle. */
export const DEFAULT_WEB_DIR = join(import.meta.dirname, '..', 'dist', 'web');

export const SERVER_VERSION = '0.1.0';

export interface AppDeps {
  /** The clock (ms since epoch). Domain code never reads the time itself. */
  now?: () => number;
  /** Fastify logger option: false in tests, pino options in main. */
  logger?: FastifyServerOptions['logger'];
  db?: Db;
  /** The built dashboard (default `dist/web`). */
  webDir?: string;
  /** Dashboard session lifetimes and sign-in rate limits (defaults in services/sessions.ts, routes/session.ts). */
  sessionLimits?: SessionLimits;
  signInRateLimit?: SignInRateLimit;
}

export interface BootstrapResult {
  /** Set only when this start created the first admin token. */
  adminToken?: string;
  /** True when the token was generated here (and must be printed once), false when it came from config. */
  generated: boolean;
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

/** On an empty database, create the first admin token (from config, or generated). */
export function ensureBootstrapToken(
  repos: Repositories,
  config: ServerConfig,
  now: number,
): BootstrapResult {
  if (repos.tokens.count() > 0) return { generated: false };
  const adminToken = config.bootstrapToken ?? newApiToken();
  const id = newId('tok');
  repos.transaction(() => {
    repos.tokens.create(
      { id, role: 'admin', ownerId: null, label: 'bootstrap admin', createdAt: now, createdBy: null },
      sha256Hex(adminToken),
    );
    repos.audit.record(now, { type: 'system', id: null }, 'token.bootstrap', { type: 'token', id });
  });
  return { adminToken, generated: config.bootstrapToken === undefined };
}

export async function buildApp(config: ServerConfig, deps: AppDeps = {}): Promise<App> {
  const now = deps.now ?? Date.now;
  const db = deps.db ?? openDatabase(config.dbPath);
  const repos = createRepositories(db);
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
  const closedAfterCrash = repos.presence.closeAllOpen('server-restart');
  const presence = new PresenceTracker({
    repo: repos.presence,
    now,
    newId: () => newId('pi'),
    enrolledAt: (nodeId) => repos.nodes.get(nodeId)?.enrolledAt,
  });
  const windowMs = config.enrollRateLimit.windowSeconds * 1000;
  const context: AppContext = {
    config,
    repos,
    now,
    metrics,
    presence,
    events,
    enrollment: createEnrollmentService({
      repos,
      policy: config.policy,
      now,
      events,
      keyLimiter: new FailureLimiter({ windowMs, limit: config.enrollRateLimit.perKeyId, now }),
      addressLimiter: new FailureLimiter({ windowMs, limit: config.enrollRateLimit.perAddress, now }),
      onResult: (result) => metrics.enrollments.inc({ result }),
    }),
    keys: createKeyService({ repos, limits: config.keys, now }),
    nodes: createNodeService({ repos, presence, events, now }),
    hub: new ControlHub({
      config,
      repos,
      presence,
      events,
      metrics,
      now,
      log: app.log.child({ module: 'control' }),
    }),
    payouts: createPayoutService({ repos, now, flushPresence: () => presence.flush() }),
  };
  const stopLiveness = startLivenessRecord(repos.payouts, now, (error) =>
    app.log.error({ err: error }, 'liveness record failed'),
  );
  if (closedAfterCrash > 0)
    app.log.warn(
      { event: 'presence_recovered', intervals: closedAfterCrash },
      'closed presence intervals left open',
    );
  app.decorate('homenode', { context, bootstrap: ensureBootstrapToken(repos, config, now()) });

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
  app.addHook('preClose', async () => context.hub.close());
  await app.register(websocket, { options: { maxPayload: MAX_FRAME_BYTES } });
  app.addHook('onClose', async () => {
    stopLiveness();
    if (!deps.db) db.close();
  });
  registerErrorHandler(app);
  await app.register(cookie);
  const sessionStore = createSessionRepository(db);
  const sessions = createSessionService({
    sessions: sessionStore,
    tokens: repos.tokens,
    now,
    limits: deps.sessionLimits,
  });
  registerAuth(app, repos.tokens, sessions);
  registerRequestMetrics(app, metrics);

  healthRoutes(app, context);
  accountRoutes(app, context);
  keyRoutes(app, context);
  enrollRoutes(app, context);
  nodeRoutes(app, context);
  controlRoutes(app, context);
  payoutRoutes(app, context);
  backupRoutes(app, context);
  presenceRoutes(app, context);
  sessionRoutes(app, context, { sessions, store: sessionStore, rateLimit: deps.signInRateLimit });
  registerDashboard(app, deps.webDir ?? DEFAULT_WEB_DIR);
  app.get('/openapi.json', { schema: { hide: true }, config: { auth: 'public' } }, async () => app.swagger());

  await app.ready();
  return app;
}
