/**
 * Server configuration: parsed once, at the edge (main.ts), from the `HOMENODE_*` variables of
 * DESIGN.md "Running". Every error names the variable and the value that is wrong.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Compile } from 'typebox/compile';
import { NVIDIA_TOOLKIT_PACKAGES, isArtifactName, isArtifactVersion } from '../../protocol/artifacts.js';
import { PING_INTERVAL_MS, PONG_TIMEOUT_MS } from '../../protocol/control.js';
import { type JoinFieldKind, JOIN_FIELD_SHAPES, isJoinField } from '../../protocol/join-fields.js';
import { type Policy, PolicyOverridesSchema, resolvePolicy } from '../../protocol/policy.js';
import { type AccountsConfig, loadAccountsConfig } from './accounts-config.js';
import { ConfigError } from './config-error.js';

export interface KeyLimits {
  defaultTtlHours: number;
  /** The most ops and admins may set. */
  maxTtlHours: number;
  maxUses: number;
  /** The most an owner may set for their own keys (DESIGN: default 1 use; more via ops). */
  ownerMaxTtlHours: number;
  ownerMaxUses: number;
}

export interface EnrollRateLimit {
  /** Length of the window in which failed attempts are counted. */
  windowSeconds: number;
  /** Failed attempts allowed per key id within the window. */
  perKeyId: number;
  /** Failed attempts allowed per client address within the window. */
  perAddress: number;
}

/** How approved nodes join the managed cluster (sent in the control channel's `join`). */
export interface ClusterConfig {
  /** The k3s server URL agents join. */
  server: string;
  /** The k3s join token. */
  token: string;
  /** The private overlay: node n gets address index n (the hub is index 1). */
  overlayCidr: string;
  hubPublicKey: string;
  hubEndpoint: string;
  keepaliveSeconds: number;
}

/** An artifact the join names: the newest uploaded version of `name`, or exactly `version`. */
export interface ArtifactChoice {
  name: string;
  version?: string;
}

/** Artifacts: storage, the release key, and what a join installs (docs/node-software.md). */
export interface ArtifactConfig {
  /** Largest upload accepted (bytes). */
  maxBytes: number;
  /** The release key (a private Ed25519 JWK); default: made on first start in the data folder. */
  releaseKeyFile?: string;
  /** The k3s every join names: a pinned version, or (undefined) the newest uploaded. */
  k3sVersion?: string;
  /** Runtime packages a join names, in install order (names never uploaded are left out). */
  packages: ArtifactChoice[];
  /** Public downloads (the ISO) running at once from one address. */
  downloadsPerAddress: number;
}

/** The auditor (docs/performance.md "The auditor"): its key and the on-chain accounts it signs for. */
export interface AuditorConfig {
  /** The auditor key (a private Ed25519 JWK); default: made on first start in the data folder. */
  keyFile?: string;
  /** The auditor's Akash account (`akash1…`), what SDLs name in `signedBy`; default: the key's thumbprint. */
  address?: string;
  /** The managed provider's Akash account (`akash1…`), whose attributes the auditor signs on chain. */
  providerAddress?: string;
}

/** An Akash account address: `akash1` and bech32 characters (20-byte accounts: 38, 32-byte: 58). */
export const AKASH_ADDRESS_PATTERN = '^akash1[02-9ac-hj-np-z]{38}(?:[02-9ac-hj-np-z]{20})?$';

export interface ShellLimits {
  idleTimeoutMs: number;
  maxDurationMs: number;
  /** How long the node has to confirm a shell (`shell-opened`) before ops are told it did not. */
  openTimeoutMs: number;
  /** Output waiting for the ops browser above which the node is told to pause (`shell-pause`). */
  highWaterBytes: number;
  /** Below this the node is told to resume. */
  lowWaterBytes: number;
  /** Output waiting above which the shell is closed (a node that does not pause). */
  dropAfterBytes: number;
  /** Bytes one session's recording may hold; past it the recording stops with a marker line. */
  recordingMaxBytes: number;
  /** Bytes of recordings one node may produce in 24 hours, all its sessions together. */
  recordingMaxBytesPerNodeDay: number;
}

/** Limits of the control channel (docs/control-channel.md "Limits"). */
export interface ControlLimits {
  /** Control connections (live and being checked) the process holds at most; then 503. */
  maxConnections: number;
  /** Live control sessions from one client address; then 429. */
  maxPerAddress: number;
  /** Upgrades from one address whose token is still being checked; then 429. */
  maxPendingPerAddress: number;
  /** Refused upgrades (bad token, unknown or refused node) per address in the window; then 429. */
  maxFailuresPerAddress: number;
  failureWindowSeconds: number;
  /** Connections one node may open at once; then one more per `nodeConnectIntervalSeconds`. */
  nodeConnectBurst: number;
  nodeConnectIntervalSeconds: number;
  /** Multiplies every frame budget (tests and simulators that beat faster than real agents). */
  frameBudgetFactor: number;
  /** How long a peer has to finish the close handshake before its socket is destroyed. */
  closeGraceMs: number;
  /** Each session is pinged once per interval: a slice of the sessions at each of 15 ticks. */
  pingIntervalMs: number;
  /** A session heard from by neither a frame nor a pong for this long (real time) is cut off. */
  pongTimeoutMs: number;
  /** Presence changes are written in one batch this often (a batch still being written is not raced). */
  presenceFlushMs: number;
}

/** Several servers on one PostgreSQL database (docs/replicas.md). */
export interface ReplicaConfig {
  /** The address other replicas reach this one at (internal), e.g. http://10.0.0.5:8080. */
  url?: string;
  /** Shared by every replica: signs the tokens of their internal routes. */
  secret?: string;
  heartbeatMs: number;
  /** A replica whose heartbeat is this old is dead; the others close its sessions. */
  lapseMs: number;
}

export const DEFAULT_REPLICA_CONFIG: ReplicaConfig = { heartbeatMs: 5_000, lapseMs: 30_000 };

export interface ServerConfig {
  /** The SQLite file (the embedded default; unused when `databaseUrl` is set). */
  dbPath: string;
  /** `postgres://…`: PostgreSQL instead of SQLite (`HOMENODE_DATABASE_URL`); every server on it is a replica. */
  databaseUrl?: string;
  /** Where recordings and diagnostics are kept (default: the database's folder). */
  dataDir: string;
  host: string;
  port: number;
  publicUrl: string;
  bootstrapToken?: string;
  policy: Policy;
  policyFile?: string;
  logLevel: string;
  trustProxy: boolean;
  keys: KeyLimits;
  enrollRateLimit: EnrollRateLimit;
  cluster: ClusterConfig;
  shell: ShellLimits;
  /** Accounts, mail, sign-in providers, webhooks (docs/accounts.md); defaults when absent. */
  accounts?: AccountsConfig;
  /** Control-channel limits (default `DEFAULT_CONTROL_LIMITS`). */
  control?: ControlLimits;
  /** Default `DEFAULT_REPLICA_CONFIG`. */
  replica?: ReplicaConfig;
  artifacts: ArtifactConfig;
  /** The auditor (default: a key in the data folder, its thumbprint as id, no provider account). */
  auditor?: AuditorConfig;
  /** `HOMENODE_DEV=1`: development defaults for the cluster and overlay (never in production). */
  dev: boolean;
}

export { ConfigError };

const MiB = 1024 * 1024;

export const DEFAULT_SHELL_LIMITS: ShellLimits = {
  idleTimeoutMs: 15 * 60_000,
  maxDurationMs: 2 * 3_600_000,
  openTimeoutMs: 10_000,
  highWaterBytes: 1 * MiB,
  lowWaterBytes: 256 * 1024,
  dropAfterBytes: 8 * MiB,
  recordingMaxBytes: 50 * MiB,
  recordingMaxBytesPerNodeDay: 200 * MiB,
};

export const DEFAULT_CONTROL_LIMITS: ControlLimits = {
  // The process may hold 20,000 descriptors: leave room for the database, HTTP and shells.
  maxConnections: 15_000,
  maxPerAddress: 100,
  maxPendingPerAddress: 20,
  maxFailuresPerAddress: 30,
  failureWindowSeconds: 60,
  nodeConnectBurst: 6,
  nodeConnectIntervalSeconds: 10,
  frameBudgetFactor: 1,
  closeGraceMs: 1_000,
  pingIntervalMs: PING_INTERVAL_MS,
  pongTimeoutMs: PONG_TIMEOUT_MS,
  presenceFlushMs: 5_000,
};

/**
 * Development defaults, used only with `HOMENODE_DEV=1` (`npm run dev`, the demo, tests): outside
 * dev mode the server refuses to start without real values (`CLUSTER_VARIABLES`). The hub key is a
 * real WireGuard key (docs/node-software.md gives its private half, for a hub on a laptop).
 */
export const DEV_CLUSTER: ClusterConfig = {
  server: 'https://100.64.0.1:6443',
  token: 'homenode-dev-cluster-token',
  overlayCidr: '100.64.0.0/10',
  hubPublicKey: 'CJ6G9Bnb+TEYalwoXvS51quxAOH4qCLTe6m8qFkNwnw=',
  hubEndpoint: '127.0.0.1:51820',
  keepaliveSeconds: 25,
};

/** The variables a production server needs, the cluster field each sets, and its shape. */
export const CLUSTER_VARIABLES = [
  { variable: 'HOMENODE_CLUSTER_SERVER', field: 'server', kind: 'k3sServer' },
  { variable: 'HOMENODE_CLUSTER_TOKEN', field: 'token', kind: 'k3sToken' },
  { variable: 'HOMENODE_WG_HUB_PUBLIC_KEY', field: 'hubPublicKey', kind: 'wireguardKey' },
  { variable: 'HOMENODE_WG_HUB_ENDPOINT', field: 'hubEndpoint', kind: 'endpoint' },
] as const satisfies readonly {
  variable: string;
  field: keyof ClusterConfig;
  kind: JoinFieldKind;
}[];

export const DEFAULT_ARTIFACT_MAX_BYTES = 4 * 1024 ** 3;

export const DEFAULT_KEY_LIMITS: KeyLimits = {
  defaultTtlHours: 7 * 24,
  maxTtlHours: 90 * 24,
  maxUses: 1000,
  ownerMaxTtlHours: 7 * 24,
  ownerMaxUses: 5,
};
export const DEFAULT_ENROLL_RATE_LIMIT: EnrollRateLimit = {
  windowSeconds: 900,
  perKeyId: 10,
  perAddress: 30,
};

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const policyOverrides = Compile(PolicyOverridesSchema);

type Env = Readonly<Record<string, string | undefined>>;

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(name, raw, `must be a whole number from ${min} to ${max}`);
  }
  return value;
}

function controlLimits(env: Env): ControlLimits {
  const d = DEFAULT_CONTROL_LIMITS;
  return {
    ...d,
    maxConnections: integer(env, 'HOMENODE_CONTROL_MAX_CONNECTIONS', d.maxConnections, 1, 1_000_000),
    maxPerAddress: integer(env, 'HOMENODE_CONTROL_MAX_PER_ADDRESS', d.maxPerAddress, 1, 1_000_000),
    maxPendingPerAddress: integer(
      env,
      'HOMENODE_CONTROL_MAX_PENDING_PER_ADDRESS',
      d.maxPendingPerAddress,
      1,
      100_000,
    ),
    maxFailuresPerAddress: integer(
      env,
      'HOMENODE_CONTROL_MAX_FAILURES_PER_ADDRESS',
      d.maxFailuresPerAddress,
      1,
      1_000_000,
    ),
    frameBudgetFactor: integer(env, 'HOMENODE_CONTROL_FRAME_BUDGET_FACTOR', d.frameBudgetFactor, 1, 1000),
  };
}

/** Read and validate a policy file; its keys overlay the built-in defaults. */
export function loadPolicyFile(
  path: string,
  read: (p: string) => string = (p) => readFileSync(p, 'utf8'),
): Policy {
  let parsed: unknown;
  try {
    parsed = JSON.parse(read(path));
  } catch (cause) {
    throw new ConfigError('HOMENODE_POLICY', path, `cannot read the policy file as JSON (${String(cause)})`);
  }
  if (!policyOverrides.Check(parsed)) {
    const problems = policyOverrides
      .Errors(parsed)
      .map((e) => `${e.instancePath || '/'} ${e.message}`)
      .join('; ');
    throw new ConfigError('HOMENODE_POLICY', path, `the policy file is not valid: ${problems}`);
  }
  return resolvePolicy(parsed);
}

export function loadConfig(env: Env, read?: (p: string) => string): ServerConfig {
  const host = env.HOMENODE_HOST || '127.0.0.1';
  const port = integer(env, 'HOMENODE_PORT', 8080, 0, 65_535);
  const bootstrapToken = env.HOMENODE_BOOTSTRAP_TOKEN || undefined;
  if (bootstrapToken !== undefined && (bootstrapToken.length < 24 || /\s/.test(bootstrapToken))) {
    throw new ConfigError(
      'HOMENODE_BOOTSTRAP_TOKEN',
      '(hidden)',
      'must be at least 24 characters without spaces (128 bits or more): e.g. `openssl rand -base64 32`',
    );
  }
  const publicUrl = env.HOMENODE_PUBLIC_URL || `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  try {
    new URL(publicUrl);
  } catch {
    throw new ConfigError(
      'HOMENODE_PUBLIC_URL',
      publicUrl,
      'must be an absolute URL such as https://homenode.example.com',
    );
  }
  const logLevel = env.HOMENODE_LOG_LEVEL || 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError('HOMENODE_LOG_LEVEL', logLevel, `must be one of ${LOG_LEVELS.join(', ')}`);
  }
  const policyFile = env.HOMENODE_POLICY ? resolve(env.HOMENODE_POLICY) : undefined;
  const dbPath = env.HOMENODE_DB || './data/homenode.db';
  const databaseUrl = env.HOMENODE_DATABASE_URL || undefined;
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\/[^\s]+$/.test(databaseUrl)) {
    throw new ConfigError(
      'HOMENODE_DATABASE_URL',
      databaseUrl.replace(/:[^:@/]*@/, ':***@'),
      'must be a PostgreSQL URL such as postgres://homenode:secret@db.internal:5432/homenode (leave it unset for SQLite)',
    );
  }
  const replicaUrl = env.HOMENODE_REPLICA_URL || undefined;
  if (replicaUrl !== undefined && !/^https?:\/\/[^\s/?#]+\/?$/.test(replicaUrl)) {
    throw new ConfigError(
      'HOMENODE_REPLICA_URL',
      replicaUrl,
      'must be the http(s) address other replicas reach this one at, such as http://10.0.0.5:8080 (no path)',
    );
  }
  const replicaSecret = env.HOMENODE_REPLICA_SECRET || undefined;
  if (replicaSecret !== undefined && (replicaSecret.length < 32 || /\s/.test(replicaSecret))) {
    throw new ConfigError(
      'HOMENODE_REPLICA_SECRET',
      '(hidden)',
      'must be at least 32 characters without spaces, the same on every replica: e.g. `openssl rand -base64 48`',
    );
  }
  if ((replicaUrl !== undefined || replicaSecret !== undefined) && databaseUrl === undefined) {
    throw new ConfigError(
      replicaUrl !== undefined ? 'HOMENODE_REPLICA_URL' : 'HOMENODE_REPLICA_SECRET',
      replicaUrl ?? '(hidden)',
      'replicas share a PostgreSQL database: set HOMENODE_DATABASE_URL too (with SQLite there is one server process)',
    );
  }
  const heartbeatSeconds = integer(env, 'HOMENODE_REPLICA_HEARTBEAT_SECONDS', 5, 1, 300);
  const lapseSeconds = integer(env, 'HOMENODE_REPLICA_LAPSE_SECONDS', 30, 3, 3_600);
  if (lapseSeconds < 3 * heartbeatSeconds) {
    throw new ConfigError(
      'HOMENODE_REPLICA_LAPSE_SECONDS',
      String(lapseSeconds),
      `must be at least three heartbeats (HOMENODE_REPLICA_HEARTBEAT_SECONDS=${heartbeatSeconds}), or a busy replica would be declared dead`,
    );
  }
  const dev = env.HOMENODE_DEV === '1' || env.HOMENODE_DEV === 'true';
  return {
    dbPath,
    databaseUrl,
    replica: {
      url: replicaUrl?.replace(/\/+$/, ''),
      secret: replicaSecret,
      heartbeatMs: heartbeatSeconds * 1000,
      lapseMs: lapseSeconds * 1000,
    },
    dataDir: env.HOMENODE_DATA_DIR || dirname(dbPath),
    host,
    port,
    publicUrl: publicUrl.replace(/\/+$/, ''),
    bootstrapToken,
    policy: policyFile ? loadPolicyFile(policyFile, read) : resolvePolicy(),
    policyFile,
    accounts: loadAccountsConfig(env, publicUrl, read),
    logLevel,
    trustProxy: env.HOMENODE_TRUST_PROXY === '1' || env.HOMENODE_TRUST_PROXY === 'true',
    keys: {
      ...DEFAULT_KEY_LIMITS,
      ownerMaxUses: integer(env, 'HOMENODE_OWNER_KEY_MAX_USES', DEFAULT_KEY_LIMITS.ownerMaxUses, 1, 1000),
      ownerMaxTtlHours: integer(
        env,
        'HOMENODE_OWNER_KEY_MAX_TTL_HOURS',
        DEFAULT_KEY_LIMITS.ownerMaxTtlHours,
        1,
        DEFAULT_KEY_LIMITS.maxTtlHours,
      ),
    },
    control: controlLimits(env),
    cluster: loadCluster(env, dev),
    artifacts: loadArtifacts(env),
    auditor: loadAuditor(env),
    dev,
    shell: {
      ...DEFAULT_SHELL_LIMITS,
      recordingMaxBytes:
        integer(
          env,
          'HOMENODE_SHELL_RECORDING_MAX_MIB',
          DEFAULT_SHELL_LIMITS.recordingMaxBytes / MiB,
          1,
          10_240,
        ) * MiB,
      recordingMaxBytesPerNodeDay:
        integer(
          env,
          'HOMENODE_SHELL_RECORDING_MAX_MIB_PER_NODE_DAY',
          DEFAULT_SHELL_LIMITS.recordingMaxBytesPerNodeDay / MiB,
          1,
          102_400,
        ) * MiB,
      idleTimeoutMs:
        integer(env, 'HOMENODE_SHELL_IDLE_SECONDS', DEFAULT_SHELL_LIMITS.idleTimeoutMs / 1000, 10, 86_400) *
        1000,
      maxDurationMs:
        integer(env, 'HOMENODE_SHELL_MAX_SECONDS', DEFAULT_SHELL_LIMITS.maxDurationMs / 1000, 10, 86_400) *
        1000,
    },
    enrollRateLimit: {
      windowSeconds: integer(
        env,
        'HOMENODE_ENROLL_WINDOW_SECONDS',
        DEFAULT_ENROLL_RATE_LIMIT.windowSeconds,
        1,
        86_400,
      ),
      perKeyId: integer(
        env,
        'HOMENODE_ENROLL_MAX_FAILURES_PER_KEY',
        DEFAULT_ENROLL_RATE_LIMIT.perKeyId,
        1,
        1_000_000,
      ),
      perAddress: integer(
        env,
        'HOMENODE_ENROLL_MAX_FAILURES_PER_ADDRESS',
        DEFAULT_ENROLL_RATE_LIMIT.perAddress,
        1,
        1_000_000,
      ),
    },
  };
}

/**
 * The cluster and overlay settings sent in `join`. Each value is checked by the pattern the agent
 * checks it with (protocol/join-fields.ts). Outside dev mode every variable of `CLUSTER_VARIABLES`
 * must be set, and none may be a development value: all missing ones are named at once.
 */
export function loadCluster(env: Env, dev: boolean): ClusterConfig {
  const overlayCidr = env.HOMENODE_OVERLAY_CIDR || DEV_CLUSTER.overlayCidr;
  if (!isJoinField('ipv4Cidr', overlayCidr) || !/\/([0-9]|1[0-9]|2[0-9])$/.test(overlayCidr)) {
    throw new ConfigError(
      'HOMENODE_OVERLAY_CIDR',
      overlayCidr,
      'must be an IPv4 CIDR with room for nodes, such as 100.64.0.0/10',
    );
  }
  const cluster: ClusterConfig = { ...DEV_CLUSTER, overlayCidr };
  const missing: string[] = [];
  for (const { variable, field, kind } of CLUSTER_VARIABLES) {
    const value = env[variable];
    if (value === undefined || value === '') {
      if (!dev) missing.push(variable);
      continue;
    }
    if (!isJoinField(kind, value))
      throw new ConfigError(variable, value, `must be ${JOIN_FIELD_SHAPES[kind]}`);
    if (!dev && value === DEV_CLUSTER[field]) {
      throw new ConfigError(
        variable,
        field === 'token' ? '(hidden)' : value,
        'is the development default; set the real value, or run in dev mode (HOMENODE_DEV=1, npm run dev)',
      );
    }
    cluster[field] = value;
  }
  if (missing.length > 0) {
    throw new ConfigError(
      missing.join(', '),
      undefined,
      `${missing.length === 1 ? 'is' : 'are'} not set. Nodes join the cluster with these values ` +
        "(the k3s server and its join token, the WireGuard hub's public key and endpoint). Set them " +
        '(docs/node-software.md), or run a development server with HOMENODE_DEV=1 (npm run dev), ' +
        'which uses built-in development values.',
    );
  }
  return cluster;
}

/** `HOMENODE_NODE_PACKAGES`: `name` or `name@version`, comma-separated; `none` for no packages. */
export function parsePackageList(raw: string | undefined): ArtifactChoice[] {
  if (raw === undefined || raw.trim() === '') return NVIDIA_TOOLKIT_PACKAGES.map((name) => ({ name }));
  if (raw.trim() === 'none') return [];
  return raw.split(',').map((entry) => {
    const [name = '', version, extra] = entry.trim().split('@');
    if (
      !isArtifactName(name) ||
      (version !== undefined && !isArtifactVersion(version)) ||
      extra !== undefined
    ) {
      throw new ConfigError(
        'HOMENODE_NODE_PACKAGES',
        raw,
        `"${entry.trim()}" is not an artifact name, or name@version (e.g. nvidia-container-toolkit@1.17.3-1)`,
      );
    }
    return version === undefined ? { name } : { name, version };
  });
}

function akashAddress(env: Env, name: string): string | undefined {
  const value = env[name] || undefined;
  if (value !== undefined && !new RegExp(AKASH_ADDRESS_PATTERN).test(value))
    throw new ConfigError(
      name,
      value,
      'must be an Akash account address (akash1 followed by 38 bech32 characters)',
    );
  return value;
}

export function loadAuditor(env: Env): AuditorConfig {
  const address = akashAddress(env, 'HOMENODE_AUDITOR_ADDRESS');
  const providerAddress = akashAddress(env, 'HOMENODE_PROVIDER_ADDRESS');
  return {
    ...(env.HOMENODE_AUDITOR_KEY_FILE ? { keyFile: resolve(env.HOMENODE_AUDITOR_KEY_FILE) } : {}),
    ...(address ? { address } : {}),
    ...(providerAddress ? { providerAddress } : {}),
  };
}

export function loadArtifacts(env: Env): ArtifactConfig {
  const k3sVersion = env.HOMENODE_K3S_VERSION || undefined;
  if (k3sVersion !== undefined && !isArtifactVersion(k3sVersion)) {
    throw new ConfigError(
      'HOMENODE_K3S_VERSION',
      k3sVersion,
      'must be an artifact version such as v1.31.4+k3s1',
    );
  }
  return {
    maxBytes: integer(env, 'HOMENODE_ARTIFACT_MAX_BYTES', DEFAULT_ARTIFACT_MAX_BYTES, 1, 2 ** 40),
    releaseKeyFile: env.HOMENODE_RELEASE_KEY_FILE ? resolve(env.HOMENODE_RELEASE_KEY_FILE) : undefined,
    ...(k3sVersion ? { k3sVersion } : {}),
    packages: parsePackageList(env.HOMENODE_NODE_PACKAGES),
    downloadsPerAddress: integer(env, 'HOMENODE_DOWNLOADS_PER_ADDRESS', 4, 1, 1000),
  };
}
