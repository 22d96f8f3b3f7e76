/**
 * A real enroll-server from `buildApp` on loopback with a real SQLite file in a temp dir, plus small
 * HTTP helpers. Each test builds its own with `startTestServer()`. Every JSON answer `api()` gets
 * is checked against the served OpenAPI document (`openapi-answers.ts`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AppDeps, buildApp } from '../../enroll-server/app.js';
import { type AccountsConfig, DEFAULT_ACCOUNTS_CONFIG } from '../../enroll-server/core/accounts-config.js';
import {
  DEFAULT_SIGN_IN_RATE_LIMIT,
  type SignInRateLimit,
} from '../../enroll-server/accounts/session-routes.js';
import {
  type ControlLimits,
  DEFAULT_CONTROL_LIMITS,
  DEFAULT_ENROLL_RATE_LIMIT,
  DEFAULT_KEY_LIMITS,
  DEFAULT_SHELL_LIMITS,
  DEV_CLUSTER,
  type ArtifactConfig,
  type AuditorConfig,
  type EnrollRateLimit,
  loadArtifacts,
  type ServerConfig,
  type ReplicaConfig,
  type ShellLimits,
  DEFAULT_REPLICA_CONFIG,
} from '../../enroll-server/core/config.js';
import type { App } from '../../enroll-server/core/http.js';
import type { Db } from '../../enroll-server/core/sqlite/database.js';
import { type PolicyOverrides, resolvePolicy } from '../../protocol/policy.js';
import { type OpenApiDocument, answerProblem } from './openapi-answers.js';

/**
 * Frame budgets for tests whose agents beat many times faster than real ones (a heartbeat every
 * few hundred ms instead of 15 s): every budget ×50. Tests of the budgets themselves leave it out.
 */
export const FAST_AGENTS: Partial<ControlLimits> = { frameBudgetFactor: 50 };

export const TEST_ADMIN_TOKEN = 'hn_test-admin-token-0123456789abcdefghijklmnop';

export interface TestServerOptions {
  now?: () => number;
  policy?: PolicyOverrides;
  enrollRateLimit?: Partial<EnrollRateLimit>;
  shell?: Partial<ShellLimits>;
  control?: Partial<ControlLimits>;
  /** Reuse a port (to restart "the same" server); default: any free port. */
  port?: number;
  /** Reuse a database file (to restart with the same data); default: a new temp file. */
  dbPath?: string;
  /** The built dashboard to serve (default: `dist/web`). */
  webDir?: string;
  /** Use this open database (the test closes it), e.g. to limit its size. */
  db?: Db;
  signInRateLimit?: Partial<SignInRateLimit>;
  /** PostgreSQL instead of SQLite: every server started on the same URL is a replica. */
  databaseUrl?: string;
  /** Replica settings; the replica's own URL is filled in (loopback, its port). */
  replica?: Partial<Omit<ReplicaConfig, 'url'>>;
  /** Cluster settings over the development defaults (e.g. a real WireGuard hub key). */
  cluster?: Partial<ServerConfig['cluster']>;
  /** Mail, sign-in providers, webhooks (default: no SMTP, .eml files in the temp dir). */
  accounts?: Partial<AccountsConfig>;
  /** Notification loop intervals, link rate limits, session limits. */
  deps?: Pick<
    AppDeps,
    | 'notificationIntervals'
    | 'linkRateLimit'
    | 'sessionLimits'
    | 'signInRateLimit'
    | 'resolve'
    | 'rolloutTickMs'
    | 'rolloutInFlight'
    | 'updateHealthSeconds'
  >;
  /** Artifact settings over the defaults (e.g. a smaller upload cap, a pinned k3s). */
  artifacts?: Partial<ArtifactConfig>;
  /**
   * The audit scheduler's tick: 0 (the default here) runs it only when the test calls
   * `app.homenode.context.audits.tick()`, so that tests about other things run no audit suites.
   */
  auditTickMs?: number;
  random?: () => number;
  /** The auditor's key file and Akash accounts (default: a key in the temp dir, no accounts). */
  auditor?: AuditorConfig;
}

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

export interface TestServer {
  url: string;
  port: number;
  adminToken: string;
  app: App;
  dbPath: string;
  dir: string;
  api<T = Record<string, unknown>>(
    method: string,
    path: string,
    options?: { token?: string | null; body?: unknown; raw?: string; headers?: Record<string, string> },
  ): Promise<ApiResponse<T>>;
  createOwner(email?: string, name?: string): Promise<{ id: string; email: string }>;
  createKey(
    ownerId: string,
    options?: { ttlHours?: number; maxUses?: number; label?: string },
  ): Promise<{ id: string; key: string; keyId: string }>;
  tokenFor(role: 'admin' | 'ops' | 'reviewer' | 'owner', ownerId?: string): Promise<string>;
  /** Stop the server; `keepFiles` leaves the database for a restart. */
  close(options?: { keepFiles?: boolean }): Promise<void>;
}

let counter = 0;

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dir = options.dbPath ? join(options.dbPath, '..') : mkdtempSync(join(tmpdir(), 'homenode-server-'));
  const dbPath = options.dbPath ?? join(dir, 'homenode.db');
  // A replica must know its own address before it starts (the others read it from the registry).
  const port = options.port ?? (options.databaseUrl ? await freePort() : 0);
  const config: ServerConfig = {
    dbPath,
    databaseUrl: options.databaseUrl,
    replica: {
      ...DEFAULT_REPLICA_CONFIG,
      ...options.replica,
      url: options.databaseUrl ? `http://127.0.0.1:${port}` : undefined,
    },
    dataDir: dir,
    host: '127.0.0.1',
    port,
    // With a fixed port the public URL is exact, so mailed links and sign-in callbacks work.
    publicUrl: port ? `http://127.0.0.1:${port}` : 'http://127.0.0.1',
    bootstrapToken: TEST_ADMIN_TOKEN,
    policy: resolvePolicy(options.policy),
    logLevel: 'silent',
    trustProxy: false,
    keys: DEFAULT_KEY_LIMITS,
    enrollRateLimit: { ...DEFAULT_ENROLL_RATE_LIMIT, ...options.enrollRateLimit },
    cluster: { ...DEV_CLUSTER, ...options.cluster },
    shell: { ...DEFAULT_SHELL_LIMITS, ...options.shell },
    accounts: { ...DEFAULT_ACCOUNTS_CONFIG, ...options.accounts },
    control: { ...DEFAULT_CONTROL_LIMITS, ...options.control },
    artifacts: { ...loadArtifacts({}), ...options.artifacts },
    ...(options.auditor ? { auditor: options.auditor } : {}),
    dev: true,
  };
  const app = await buildApp(config, {
    now: options.now,
    webDir: options.webDir,
    db: options.db,
    ...options.deps,
    signInRateLimit: {
      ...DEFAULT_SIGN_IN_RATE_LIMIT,
      ...options.deps?.signInRateLimit,
      ...options.signInRateLimit,
    },
    auditTickMs: options.auditTickMs ?? 0,
    random: options.random,
  });
  await app.listen({ host: '127.0.0.1', port: config.port });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('server has no TCP address');
  const url = `http://127.0.0.1:${address.port}`;

  let document: OpenApiDocument | undefined;
  const api: TestServer['api'] = async (method, path, opts = {}) => {
    const token = opts.token === undefined ? TEST_ADMIN_TOKEN : opts.token;
    const headers: Record<string, string> = { ...opts.headers };
    if (token) headers.authorization = `Bearer ${token}`;
    let body: string | undefined = opts.raw;
    if (opts.body !== undefined) body = JSON.stringify(opts.body);
    if (body !== undefined) headers['content-type'] ??= 'application/json';
    const res = await fetch(url + path, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    document ??= (await (await fetch(`${url}/openapi.json`)).json()) as OpenApiDocument;
    const problem = answerProblem(document, {
      method,
      url: path,
      status: res.status,
      contentType: res.headers.get('content-type'),
      body: parsed,
    });
    if (problem) throw new Error(`The answer breaks the OpenAPI document. ${problem}`);
    return { status: res.status, headers: res.headers, body: parsed as never };
  };

  const server: TestServer = {
    url,
    port: address.port,
    adminToken: TEST_ADMIN_TOKEN,
    app,
    dbPath,
    dir,
    api,
    async createOwner(email, name = 'Test Owner') {
      counter += 1;
      const res = await api<{ id: string; email: string }>('POST', '/v1/owners', {
        body: { email: email ?? `owner${counter}-${Date.now()}@example.com`, name },
      });
      if (res.status !== 201) throw new Error(`createOwner: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    },
    async createKey(ownerId, keyOptions = {}) {
      const res = await api<{ id: string; key: string; keyId: string }>('POST', '/v1/keys', {
        body: { ownerId, ...keyOptions },
      });
      if (res.status !== 201) throw new Error(`createKey: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    },
    async tokenFor(role, ownerId) {
      const res = await api<{ token: string }>('POST', '/v1/tokens', {
        body: { role, ...(ownerId ? { ownerId } : {}) },
      });
      if (res.status !== 201) throw new Error(`tokenFor: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.token;
    },
    async close(closeOptions = {}) {
      await app.close();
      if (!closeOptions.keepFiles && !options.dbPath) rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}

/** A free TCP port on loopback (for a server whose public URL must name its port). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no TCP address');
  return address.port;
}

/** A clock tests move by hand. */
export function manualClock(start = Date.parse('2026-11-02T09:00:00Z')) {
  let t = start;
  return {
    now: () => t,
    advance(ms: number) {
      t += ms;
    },
    set(ms: number) {
      t = ms;
    },
  };
}
