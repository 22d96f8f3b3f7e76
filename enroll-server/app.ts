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
import { auditPolicyOf } from '../protocol/policy.js';
import { accountRoutes } from './accounts/account-routes.js';
import { type BootstrapResult, ensureBootstrapToken } from './accounts/bootstrap-token.js';
import { createCredentials } from './accounts/credentials.js';
import { createEmailLinkTokens } from './accounts/email-link-tokens.js';
import { type LinkRateLimit, emailRoutes } from './accounts/email-routes.js';
import { createEmailVerification } from './accounts/email-verification.js';
import { createExternalAccounts } from './accounts/external-accounts.js';
import { createPasswordReset } from './accounts/password-reset.js';
import { providerSignInRoutes } from './accounts/provider-sign-in-routes.js';
import { createSignInProviders } from './accounts/sign-in-providers.js';
import { type SignInRateLimit, sessionRoutes } from './accounts/session-routes.js';
import { type SessionLimits, createSessionService } from './accounts/session-service.js';
import { artifactRoutes } from './artifacts/artifact-routes.js';
import { createArtifactService } from './artifacts/artifact-service.js';
import { createBlobStore } from './artifacts/blob-store.js';
import { DownloadSlots } from './artifacts/download-slots.js';
import { downloadRoutes } from './artifacts/download-routes.js';
import { createJoinSoftware } from './artifacts/join-software.js';
import { attestationRoutes } from './attestations/attestation-routes.js';
import { createAttestationService } from './attestations/attestation-service.js';
import { createAttestedFleet } from './attestations/attested-fleet.js';
import { loadAuditor } from './attestations/auditor.js';
import { auditRoutes } from './audits/audit-routes.js';
import { type AuditService, createAuditService } from './audits/audit-service.js';
import { netProbeRoutes } from './audits/net-probe-routes.js';
import { commandRoutes } from './control/command-routes.js';
import { ConnectionGate } from './control/connection-gate.js';
import { ControlHub } from './control/hub.js';
import { rolloutRoutes } from './rollouts/rollout-routes.js';
import { createRolloutService } from './rollouts/rollout-service.js';
import { nodeChannelRoutes } from './control/node-channel-routes.js';
import { ReplayGuard } from './control/node-token.js';
import { presenceRoutes } from './control/presence-routes.js';
import { PresenceTracker } from './control/presence-tracker.js';
import { RecordingBudget } from './control/recording-budget.js';
import { shellRoutes } from './control/shell-routes.js';
import { DEFAULT_ACCOUNTS_CONFIG } from './core/accounts-config.js';
import { activityRoutes } from './core/activity-routes.js';
import { registerAuth } from './core/auth.js';
import { backupRoutes } from './core/backup-routes.js';
import { DEFAULT_CONTROL_LIMITS, DEFAULT_REPLICA_CONFIG, type ServerConfig } from './core/config.js';
import { registerErrorHandler } from './core/error-handler.js';
import { SharedFailureLimiter } from './core/failure-limiter.js';
import { healthRoutes } from './core/health-routes.js';
import { openApiOptions } from './core/openapi.js';
import { registerNoStore } from './core/no-store.js';
import type { App } from './core/http.js';
import { newId } from './core/ids.js';
import { deriveKey, loadServerSecret } from './core/server-secret.js';
import { type Metrics, createMetrics, registerRequestMetrics } from './core/metrics.js';
import { loadSigningKey } from './core/signing-key.js';
import { type Db, openDatabase } from './core/sqlite/database.js';
import { createEnrollmentService } from './enrollment/enrollment-service.js';
import { enrollmentRoutes } from './enrollment/enrollment-routes.js';
import { keyRoutes } from './enrollment/key-routes.js';
import { createKeyService } from './enrollment/key-service.js';
import { networkRoutes } from './network/network-routes.js';
import { type NodeEvents, createNodeEvents } from './nodes/node-events.js';
import { nodeRoutes } from './nodes/node-routes.js';
import { createNodeService } from './nodes/node-service.js';
import type { WorkerIntervals } from './notifications/notification-workers.js';
import type { Notifier } from './notifications/notifier.js';
import { setUpNotifications } from './notifications/notifications.js';
import { adjustmentRoutes } from './payouts/adjustment-routes.js';
import { earningsRoutes } from './payouts/earnings-routes.js';
import { outageRoutes } from './payouts/outage-routes.js';
import { createPayoutService } from './payouts/payout-service.js';
import { periodRoutes } from './payouts/period-routes.js';
import { rateCardRoutes } from './payouts/rate-card-routes.js';
import { startLivenessRecord } from './payouts/server-liveness.js';
import { openPostgresStore } from './postgres-store.js';
import type { Repositories, Store } from './repositories.js';
import { createSqliteStore } from './sqlite-store.js';
import { FleetCommands } from './replicas/fleet-commands.js';
import { createFleetEvents } from './replicas/fleet-events.js';
import { FleetPresence } from './replicas/fleet-presence.js';
import { createRemoteShells } from './replicas/remote-shells.js';
import { newReplicaId, startReplica } from './replicas/replica-life.js';
import { replicaRoutes } from './replicas/replica-routes.js';
import { SessionDirectory } from './replicas/session-directory.js';
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
  /** An open store (the caller closes it), e.g. one PostgreSQL pool shared by a test's replicas. */
  store?: Store;
  /** The built dashboard (default `dist/web`). */
  webDir?: string;
  /** Dashboard session lifetimes and sign-in rate limits (defaults in accounts/). */
  sessionLimits?: SessionLimits;
  signInRateLimit?: SignInRateLimit;
  /** Rate limits on mailed links (reset requests, bad tokens). */
  linkRateLimit?: LinkRateLimit;
  /** How often the notification loops run (tests make them fast). */
  notificationIntervals?: Partial<WorkerIntervals>;
  /** DNS for webhook URLs (default: the system resolver). */
  resolve?: (host: string) => Promise<string[]>;
  /** How often the audit scheduler runs (default 5 s); 0: never by itself (tests call `tick`). */
  auditTickMs?: number;
  /** How often rollouts offer releases and advance stages (default 5 s). */
  rolloutTickMs?: number;
  /** Nodes of one rollout downloading at once, per replica (default 50). */
  rolloutInFlight?: number;
  /** Seconds a new agent release has to be welcomed (default 600). */
  updateHealthSeconds?: number;
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
  /** For other capabilities: `notify(event)` outside a transaction (notifications/notifier.ts). */
  notifier: Notifier;
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
  '*.secret',
];

/** Tokens, codes and states in query strings (mailed links, sign-in callbacks) never reach the log. */
export function redactUrl(url: string): string {
  return url.replace(/([?&](?:token|code|state)=)[^&#]*/gi, '$1[redacted]');
}

/** The request as the log shows it: Fastify's fields, with `redactUrl` applied. */
export const LOG_SERIALIZERS = {
  req: (request: { method: string; url: string; hostname?: string; ip?: string }) => ({
    method: request.method,
    url: redactUrl(request.url),
    host: request.hostname,
    remoteAddress: request.ip,
  }),
};

/** The caller's store, else PostgreSQL when `databaseUrl` is set, else the SQLite file. */
async function openStore(config: ServerConfig, deps: AppDeps): Promise<Store> {
  if (deps.store) return { ...deps.store, close: async () => {} };
  if (config.databaseUrl) return openPostgresStore(config.databaseUrl, { applicationName: 'homenode' });
  return createSqliteStore(deps.db ?? openDatabase(config.dbPath), { closeDb: !deps.db });
}

export async function buildApp(config: ServerConfig, deps: AppDeps = {}): Promise<App> {
  const now = deps.now ?? Date.now;
  const store = await openStore(config, deps);
  const { repos } = store;
  const app: App = Fastify({
    logger: deps.logger ?? false,
    trustProxy: config.trustProxy,
    bodyLimit: 1024 * 1024,
    // On close (after the hub said goodbye to the nodes in preClose), every connection still open
    // is cut: a client holding a download open must not hold the shutdown with it.
    forceCloseConnections: true,
    genReqId: () => randomBytes(8).toString('hex'),
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(TypeBoxValidatorCompiler);

  const metrics = createMetrics();
  const replicaLog = app.log.child({ module: 'replicas' });
  const replicaConfig = config.replica ?? DEFAULT_REPLICA_CONFIG;
  const replicaId = newReplicaId();
  // This process joins the registry; sessions that a crashed run (or a dead replica) left open
  // end at their last sign of life.
  const replica = await startReplica({
    repos,
    id: replicaId,
    url: replicaConfig.url ?? null,
    shared: store.shared,
    timing: replicaConfig,
    now,
    log: replicaLog,
    // Ends the sessions but keeps the hub (pings, presence writes) running for the reconnects.
    onDeclaredDead: () =>
      void hub
        .endSessions('replica-declared-dead')
        .catch((error: unknown) => replicaLog.error({ err: error }, 'could not end sessions')),
  });
  const events = createFleetEvents({
    local: createNodeEvents((error) => app.log.error({ err: error }, 'node event listener failed')),
    bus: store.bus,
    replicaId,
    log: replicaLog,
  });
  const presence = new PresenceTracker({
    repo: repos.presence,
    now,
    newId: () => newId('pi'),
    enrolledAt: async (nodeId) => (await repos.nodes.get(nodeId))?.enrolledAt,
    replicaId,
  });
  const controlLimits = config.control ?? DEFAULT_CONTROL_LIMITS;
  const gate = new ConnectionGate(controlLimits, now);
  const directory = new SessionDirectory({
    repos,
    bus: store.bus,
    replicaId,
    lapseMs: replicaConfig.lapseMs,
    now,
    log: replicaLog,
    closeLocal: (nodeId, sessionId, reason) => hub.closeSession(nodeId, sessionId, reason),
  });
  const releaseKey = await loadSigningKey(
    config.artifacts.releaseKeyFile ?? join(config.dataDir, 'release-key.json'),
    {
      create: config.artifacts.releaseKeyFile === undefined,
      what: config.artifacts.releaseKeyFile ? 'HOMENODE_RELEASE_KEY_FILE' : 'The release key',
    },
  );
  const blobs = createBlobStore(config.dataDir);
  const artifacts = createArtifactService({
    repos,
    blobs,
    releaseKey,
    maxBytes: config.artifacts.maxBytes,
    now,
  });
  const hub: ControlHub = new ControlHub({
    limits: controlLimits,
    policy: config.policy,
    cluster: config.cluster,
    repos,
    presence,
    events,
    metrics,
    now,
    log: app.log.child({ module: 'control' }),
    observer: directory,
    joinSoftware: createJoinSoftware({
      artifacts: repos.artifacts,
      ...(config.artifacts.k3sVersion ? { k3sVersion: config.artifacts.k3sVersion } : {}),
      packages: config.artifacts.packages,
      warn: (message) => app.log.warn({ event: 'join_software' }, message),
    }),
  });
  // One replay guard for every node route: a node token is good for one request, on one route.
  const replay = new ReplayGuard(repos.replay, now, (error) =>
    app.log.error({ err: error }, 'the replay guard could not write used node tokens to the database'),
  );
  const nodeAuth = { nodes: repos.nodes, replay, maxSkewSeconds: config.policy.maxClockSkewSeconds, now };
  const fleetPresence = new FleetPresence({
    local: presence,
    repos,
    replicaId,
    lapseMs: replicaConfig.lapseMs,
    now,
    log: replicaLog,
    enabled: store.shared,
  });
  const fleetCommands = new FleetCommands({
    hub,
    directory,
    repos,
    bus: store.bus,
    replicaId,
    now,
    log: replicaLog,
  });
  const remoteShells = createRemoteShells({
    directory,
    repos,
    replicaId,
    secret: replicaConfig.secret,
    now,
    log: replicaLog,
  });
  const closedAfterCrash = replica.recovered.intervals;
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
  const rollouts = createRolloutService({
    repos,
    channel: hub,
    now,
    log: app.log.child({ module: 'rollouts' }),
    ...(deps.rolloutInFlight ? { maxInFlight: deps.rolloutInFlight } : {}),
    ...(deps.updateHealthSeconds ? { healthSeconds: deps.updateHealthSeconds } : {}),
  });
  hub.onUpdates(rollouts.listener);
  const pruneFailed = (error: unknown) =>
    app.log.error({ err: error }, 'expired failed-attempt counts could not be pruned');
  const windowMs = config.enrollRateLimit.windowSeconds * 1000;
  const attemptLimit = (scope: string, limit: number) => ({
    attempts: new SharedFailureLimiter(repos.attempts, { scope, windowMs, limit, now, onError: pruneFailed }),
    failures: new SharedFailureLimiter(repos.attempts, {
      scope: `${scope}-failed`,
      windowMs,
      limit,
      now,
      onError: pruneFailed,
    }),
  });
  const enrollment = createEnrollmentService({
    repos,
    policy: config.policy,
    now,
    events,
    keyLimit: attemptLimit('enroll-key', config.enrollRateLimit.perKeyId),
    addressLimit: attemptLimit('enroll-address', config.enrollRateLimit.perAddress),
    onResult: (result) => metrics.enrollments.inc({ result }),
  });
  const keys = createKeyService({ repos, limits: config.keys, now });
  const nodes = createNodeService({
    repos,
    presence: fleetPresence,
    audits: audits.stateSource,
    events,
    now,
  });
  const payouts = createPayoutService({ repos, now, flushPresence });
  const auditor = await loadAuditor(config.auditor ?? {}, config.dataDir);
  if (store.shared && !config.auditor?.keyFile)
    app.log.warn(
      { event: 'auditor_key_per_replica' },
      'Replicas share the database but each made its own auditor key in its data folder, so their attestations carry different keys. Give every replica the same HOMENODE_AUDITOR_KEY_FILE.',
    );
  const attestations = createAttestationService({
    fleet: createAttestedFleet({
      audits: repos.audits,
      nodes: repos.nodes,
      policy: auditPolicyOf(config.policy),
    }),
    auditor,
    payouts: repos.payouts,
    now,
  });
  const sessions = createSessionService({ repos, now, limits: deps.sessionLimits });

  const stopLiveness = await startLivenessRecord(repos.payouts, now, (error) =>
    app.log.error({ err: error }, 'liveness record failed'),
  );
  if (closedAfterCrash > 0)
    app.log.warn(
      { event: 'presence_recovered', intervals: closedAfterCrash },
      'closed presence intervals left open',
    );
  const accounts = config.accounts ?? DEFAULT_ACCOUNTS_CONFIG;
  const secret = loadServerSecret(accounts.secretFile ?? join(config.dataDir, 'secret.key'));
  const links = createEmailLinkTokens(deriveKey(secret, 'email-links'), config.publicUrl);

  await app.register(swagger, openApiOptions(config.publicUrl, SERVER_VERSION));
  // Close the nodes' sessions cleanly (and write presence) before the WebSocket plugin drops them;
  // then leave the replica registry, which releases this replica's claims at once.
  app.addHook('preClose', async () => {
    await audits.stop();
    await rollouts.stop();
    fleetCommands.close();
    fleetPresence.close();
    events.close();
    await directory.close();
    await hub.close();
    await replica.stop('shutdown');
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
  registerNoStore(app);

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
  nodeRoutes(app, { nodes, repos, presence: fleetPresence, audits: audits.stateSource, now });
  activityRoutes(app, { activity: repos.activity });
  nodeChannelRoutes(app, { hub, gate, repos, replay, policy: config.policy, metrics, now });
  auditRoutes(app, { audits, nodes, now });
  netProbeRoutes(app, { repos, replay, policy: config.policy, now });
  attestationRoutes(app, { attestations, nodes });
  commandRoutes(app, { hub: fleetCommands, repos, now });
  const shellRelay = {
    hub,
    repos,
    now,
    shell: config.shell,
    dataDir: config.dataDir,
    recordings: new RecordingBudget(config.shell),
    log: app.log.child({ module: 'shell' }),
  };
  shellRoutes(app, { ...shellRelay, remote: remoteShells });
  if (replicaConfig.secret)
    replicaRoutes(app, {
      relay: shellRelay,
      replicaId,
      secret: replicaConfig.secret,
      now,
      operatorMayOpenShells: async (tokenId) => {
        const token = await repos.tokens.get(tokenId);
        return (
          token !== undefined && token.revokedAt === null && (token.role === 'admin' || token.role === 'ops')
        );
      },
    });
  networkRoutes(app, { repos, overlayCidr: config.cluster.overlayCidr, now });
  const slots = new DownloadSlots(config.artifacts.downloadsPerAddress);
  artifactRoutes(app, { artifacts, blobs, releaseKey, nodeAuth, slots });
  rolloutRoutes(app, { rollouts });
  downloadRoutes(app, { artifacts, blobs, slots });
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
  presenceRoutes(app, { nodes, presence: fleetPresence, repos, now });
  sessionRoutes(app, {
    repos,
    sessions,
    now,
    publicUrl: config.publicUrl,
    rateLimit: deps.signInRateLimit,
    links,
  });
  emailRoutes(app, {
    verification: createEmailVerification({ repos, links, now }),
    reset: createPasswordReset({ repos, links, now }),
    repos,
    now,
    rateLimit: deps.linkRateLimit,
  });
  providerSignInRoutes(app, {
    providers: createSignInProviders(accounts.providers),
    accounts: createExternalAccounts({ repos, links, now }),
    sessions,
    activity: repos.activity,
    attempts: repos.attempts,
    stateKey: deriveKey(secret, 'sign-in-state'),
    publicUrl: config.publicUrl,
    now,
  });
  const notifications = setUpNotifications(app, {
    repos,
    config: accounts,
    publicUrl: config.publicUrl,
    dataDir: config.dataDir,
    secret,
    links,
    presence,
    now,
    intervals: deps.notificationIntervals,
    resolve: deps.resolve,
  });
  app.addHook('preClose', async () => notifications.stop());
  const context: AppContext = {
    config,
    repos,
    store,
    now,
    metrics,
    presence,
    events,
    hub,
    notifier: notifications.notifier,
    audits,
  };
  app.decorate('homenode', { context, bootstrap: await ensureBootstrapToken(repos, config, now()) });
  // web
  registerDashboard(app, deps.webDir ?? DEFAULT_WEB_DIR);
  app.get('/openapi.json', { schema: { hide: true }, config: { auth: 'public' } }, async () => app.swagger());

  await app.ready();
  notifications.start();
  app.log.info({ event: 'mail_transport', to: notifications.mailTo }, 'mail goes out through this transport');
  const tickMs = deps.auditTickMs ?? 5_000;
  if (tickMs > 0) audits.start(tickMs);
  rollouts.start(deps.rolloutTickMs ?? 5_000);
  return app;
}
