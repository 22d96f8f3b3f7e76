/**
 * The control channel (DESIGN.md "Control channel"): one JSON object per WebSocket frame, with a
 * `type`. Agent → server and server → agent messages, their schemas, and the channel's constants.
 * Signed payloads (hardware snapshots, usage reports) travel as compact JWS (EdDSA) signed with the
 * node's own key; their payload schemas are here too.
 */
import { Type, type Static } from 'typebox';
import { NodeStatusSchema } from './api.js';
import {
  AuditErrorSchema,
  AuditProgressSchema,
  AuditReportMessageSchema,
  AuditRequestSchema,
} from './audit.js';
import { HardwareFactsSchema } from './hardware.js';
import { MAX_ARTIFACT_BYTES } from './artifacts.js';
import { MAX_ALLOWED_IPS, MAX_JOIN_LABELS, MAX_JOIN_PACKAGES, joinField } from './join-fields.js';
import { PolicySchema } from './policy.js';
import { UpdateMessageSchema, UpdateStatusMessageSchema } from './update.js';

export const CONTROL_PATH = '/v1/control';
export const CONTROL_AUDIENCE = 'homenode-control';
/** Longest lifetime the server accepts for a connection JWT. */
export const MAX_JWT_TTL_SECONDS = 300;
export const MAX_FRAME_BYTES = 64 * 1024;
export const HEARTBEAT_INTERVAL_MS = 15_000;
export const USAGE_INTERVAL_MS = 5 * 60_000;
export const USAGE_SAMPLE_INTERVAL_MS = 60_000;
/** The longest interval one usage report may cover; the server refuses longer ones. */
export const MAX_USAGE_WINDOW_MS = 3_600_000;
/** A connection that has not answered a ping for this long is dead. */
export const PONG_TIMEOUT_MS = 45_000;
export const PING_INTERVAL_MS = 15_000;
export const RECONNECT_MIN_MS = 1_000;
export const RECONNECT_MAX_MS = 60_000;
/**
 * The cap while nothing listens at the server's address (connection refused): that server or
 * replica is gone, not overloaded, and a refused connection costs it nothing; the next try may
 * reach another replica or the restarted server, so the wait stays short.
 */
export const RECONNECT_REFUSED_MAX_MS = 8_000;

/** WebSocket close codes (4000–4999 are ours). */
export const CLOSE_CODES = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  /** The JWT was missing, malformed, expired, replayed or not signed by a known node. */
  AUTH_FAILED: 4401,
  /** The node is rejected or revoked: do not reconnect until something changes. */
  NODE_REFUSED: 4403,
  /** Too many malformed frames, or frames over the node's budget. */
  ABUSE: 4408,
  /** A newer session of the same node replaced this one. */
  REPLACED: 4409,
  SERVER_SHUTDOWN: 4503,
} as const;

const Id = Type.String({ minLength: 1, maxLength: 128 });
const Seq = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const Iso = Type.String({ maxLength: 40 });

// ---- agent → server ------------------------------------------------------------------------

export const GpuMetricsSchema = Type.Object({
  index: Type.Integer({ minimum: 0, maximum: 255 }),
  uuid: Type.Optional(Type.String({ maxLength: 128 })),
  utilizationPct: Type.Number({ minimum: 0, maximum: 100 }),
  memoryUsedBytes: Type.Number({ minimum: 0 }),
  memoryTotalBytes: Type.Number({ minimum: 0 }),
  temperatureC: Type.Number({ minimum: -50, maximum: 200 }),
  powerW: Type.Optional(Type.Number({ minimum: 0 })),
});

export const NodeMetricsSchema = Type.Object({
  load1: Type.Number({ minimum: 0 }),
  load5: Type.Number({ minimum: 0 }),
  load15: Type.Number({ minimum: 0 }),
  memTotalBytes: Type.Number({ minimum: 0 }),
  memUsedBytes: Type.Number({ minimum: 0 }),
  uptimeSeconds: Type.Number({ minimum: 0 }),
  gpus: Type.Array(GpuMetricsSchema, { maxItems: 64 }),
});
export type NodeMetrics = Static<typeof NodeMetricsSchema>;

export const HelloSchema = Type.Object({
  type: Type.Literal('hello'),
  agentVersion: Type.String({ maxLength: 64 }),
  bootId: Type.String({ maxLength: 128 }),
  hardwareDigest: Type.String({ maxLength: 128 }),
  /** False when the node's owner turned remote shells off in its config. */
  shellEnabled: Type.Optional(Type.Boolean()),
});

export const HeartbeatSchema = Type.Object({
  type: Type.Literal('heartbeat'),
  seq: Seq,
  metrics: NodeMetricsSchema,
});

/** `snapshot` is a compact JWS whose payload is `HardwareSnapshotPayload`. */
export const HardwareMessageSchema = Type.Object({
  type: Type.Literal('hardware'),
  snapshot: Type.String({ maxLength: 48 * 1024 }),
});

/** `report` is a compact JWS whose payload is `UsageReportPayload` with the same `seq`. */
export const UsageMessageSchema = Type.Object({
  type: Type.Literal('usage'),
  seq: Seq,
  report: Type.String({ maxLength: 48 * 1024 }),
});

export const ResultSchema = Type.Object({
  type: Type.Literal('result'),
  id: Id,
  ok: Type.Boolean(),
  /** At most 48 Ki characters, so that the frame stays under 64 KiB once JSON-encoded (agents bound it further). */
  output: Type.Optional(Type.String({ maxLength: 48 * 1024 })),
  error: Type.Optional(Type.String({ maxLength: 4096 })),
});

/** Which step of a join failed: ops see an `artifact-refused` flag for `artifact`, `join-failed` else. */
export const JoinFailureSchema = Type.Union([
  Type.Literal('fields'),
  Type.Literal('artifact'),
  Type.Literal('packages'),
  Type.Literal('wireguard'),
  Type.Literal('k3s'),
]);
export type JoinFailure = Static<typeof JoinFailureSchema>;

export const JoinResultSchema = Type.Object({
  type: Type.Literal('join-result'),
  ok: Type.Boolean(),
  /** The node's WireGuard public key (32 bytes, base64): the hub's peer for this node. */
  wireguardPublicKey: Type.Optional(joinField('wireguardKey')),
  error: Type.Optional(Type.String({ maxLength: 4096 })),
  failure: Type.Optional(JoinFailureSchema),
});

export const ByeSchema = Type.Object({ type: Type.Literal('bye'), reason: Type.String({ maxLength: 256 }) });

// ---- shell frames (both directions) --------------------------------------------------------

export const ShellOpenSchema = Type.Object({
  type: Type.Literal('shell-open'),
  sessionId: Id,
  cols: Type.Integer({ minimum: 10, maximum: 500 }),
  rows: Type.Integer({ minimum: 5, maximum: 200 }),
});
/** Terminal bytes, base64-encoded so that any byte survives JSON. */
export const ShellDataSchema = Type.Object({
  type: Type.Literal('shell-data'),
  sessionId: Id,
  data: Type.String({ maxLength: 48 * 1024 }),
});
export const ShellResizeSchema = Type.Object({
  type: Type.Literal('shell-resize'),
  sessionId: Id,
  cols: Type.Integer({ minimum: 10, maximum: 500 }),
  rows: Type.Integer({ minimum: 5, maximum: 200 }),
});
/** The node started the shell it was asked for (sent before any output). */
export const ShellOpenedSchema = Type.Object({ type: Type.Literal('shell-opened'), sessionId: Id });
/** Flow control: the ops terminal is not keeping up; stop reading the shell's output until resumed. */
export const ShellPauseSchema = Type.Object({ type: Type.Literal('shell-pause'), sessionId: Id });
export const ShellResumeSchema = Type.Object({ type: Type.Literal('shell-resume'), sessionId: Id });
export const ShellCloseSchema = Type.Object({
  type: Type.Literal('shell-close'),
  sessionId: Id,
  reason: Type.String({ maxLength: 512 }),
  exitCode: Type.Optional(Type.Integer()),
});

export const AgentMessageSchema = Type.Union([
  HelloSchema,
  HeartbeatSchema,
  HardwareMessageSchema,
  UsageMessageSchema,
  ResultSchema,
  JoinResultSchema,
  ByeSchema,
  ShellOpenedSchema,
  ShellDataSchema,
  ShellCloseSchema,
  // Continuous audits (protocol/audit.ts)
  AuditReportMessageSchema,
  AuditProgressSchema,
  AuditErrorSchema,
  // Agent updates (protocol/update.ts)
  UpdateStatusMessageSchema,
]);
export type AgentMessage = Static<typeof AgentMessageSchema>;

// ---- server → agent ------------------------------------------------------------------------

export const WelcomeSchema = Type.Object({
  type: Type.Literal('welcome'),
  nodeId: Id,
  status: NodeStatusSchema,
  reason: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  policy: PolicySchema,
  serverTime: Iso,
});

export const StatusMessageSchema = Type.Object({
  type: Type.Literal('status'),
  status: NodeStatusSchema,
  reason: Type.Optional(Type.Union([Type.String(), Type.Null()])),
});

/**
 * An artifact a join names (DESIGN.md "Software on the node"): `signature` is the release key's
 * JWS over `{ name, version, sha256, size }`; `url` is a path on the server the agent talks to, or
 * an https:// URL. The agent checks the signature before it downloads and the SHA-256 after.
 */
export const ArtifactRefSchema = Type.Object({
  version: joinField('artifactVersion'),
  sha256: joinField('sha256'),
  size: Type.Integer({ minimum: 1, maximum: MAX_ARTIFACT_BYTES }),
  url: joinField('artifactUrl'),
  signature: joinField('jws'),
});
export type ArtifactRef = Static<typeof ArtifactRefSchema>;
export const PackageRefSchema = Type.Object({
  name: joinField('artifactName'),
  ...ArtifactRefSchema.properties,
});
export type PackageRef = Static<typeof PackageRefSchema>;

/**
 * Every field is checked by pattern (protocol/join-fields.ts): the agent writes them into wg-quick
 * and k3s configs, where a newline would add lines of the sender's choosing.
 */
export const JoinSchema = Type.Object({
  type: Type.Literal('join'),
  cluster: Type.Object({
    server: joinField('k3sServer'),
    token: joinField('k3sToken'),
    nodeName: joinField('nodeName'),
  }),
  network: Type.Object({
    /** This node's overlay address, CIDR (e.g. `100.64.0.7/32`). */
    address: joinField('ipv4Cidr'),
    hubPublicKey: joinField('wireguardKey'),
    hubEndpoint: joinField('endpoint'),
    allowedIps: Type.Array(joinField('ipv4Cidr'), { minItems: 1, maxItems: MAX_ALLOWED_IPS }),
    persistentKeepalive: Type.Integer({ minimum: 0, maximum: 65535 }),
  }),
  labels: Type.Record(joinField('labelKey'), joinField('labelValue'), {
    additionalProperties: false,
    maxProperties: MAX_JOIN_LABELS,
  }),
  /** The k3s binary to install (absent when the server has none: the image's own is used). */
  k3s: Type.Optional(ArtifactRefSchema),
  /** Runtime packages (Debian packages such as the NVIDIA container toolkit), installed in order. */
  packages: Type.Optional(Type.Array(PackageRefSchema, { maxItems: MAX_JOIN_PACKAGES })),
});
export type JoinMessage = Static<typeof JoinSchema>;

export const AckSchema = Type.Object({ type: Type.Literal('ack'), seq: Seq });

export const CommandNameSchema = Type.Union([
  Type.Literal('run-preflight'),
  Type.Literal('collect-diagnostics'),
  Type.Literal('restart-agent'),
  Type.Literal('reboot'),
  Type.Literal('leave-cluster'),
  Type.Literal('cordon'),
  Type.Literal('uncordon'),
  Type.Literal('drain'),
]);
export type CommandName = Static<typeof CommandNameSchema>;

export const CommandSchema = Type.Object({
  type: Type.Literal('command'),
  id: Id,
  /** The command (DESIGN writes `type`; the frame's own `type` is `command`, so it travels as `name`). */
  name: CommandNameSchema,
  args: Type.Record(Type.String(), Type.Unknown()),
});

export const ErrorMessageSchema = Type.Object({
  type: Type.Literal('error'),
  code: Type.String({ maxLength: 64 }),
  message: Type.String({ maxLength: 1024 }),
  /** The usage report the error is about, when it is about one. */
  seq: Type.Optional(Seq),
});

/**
 * Codes of an `error` frame that refuse a usage report for good (it has a `seq`): the agent drops
 * the report from its spool instead of sending it again. `STORAGE_FULL` is not among them (the
 * server could not store it; the agent keeps it and sends it later).
 */
export const USAGE_REFUSAL_CODES = {
  /** The signature does not verify, or the payload is not a valid report for this node and seq. */
  INVALID: 'USAGE_REFUSED',
  /** Its window overlaps a report already stored for this node: a window is never paid twice. */
  OVERLAP: 'USAGE_OVERLAP',
  /** Its window ends after the server's clock plus the allowed skew. */
  FUTURE: 'USAGE_IN_FUTURE',
} as const;
export const USAGE_FINAL_CODES: readonly string[] = Object.values(USAGE_REFUSAL_CODES);

export const ServerMessageSchema = Type.Union([
  WelcomeSchema,
  StatusMessageSchema,
  JoinSchema,
  AckSchema,
  CommandSchema,
  ErrorMessageSchema,
  ShellOpenSchema,
  ShellDataSchema,
  ShellResizeSchema,
  ShellPauseSchema,
  ShellResumeSchema,
  ShellCloseSchema,
  // Continuous audits (protocol/audit.ts)
  AuditRequestSchema,
  // Agent updates (protocol/update.ts)
  UpdateMessageSchema,
]);
export type ServerMessage = Static<typeof ServerMessageSchema>;

// ---- signed payloads -----------------------------------------------------------------------

export const WorkloadUsageSchema = Type.Object({
  leaseId: Type.String({ minLength: 1, maxLength: 256 }),
  gpus: Type.Integer({ minimum: 0, maximum: 64 }),
  seconds: Type.Integer({ minimum: 0, maximum: 86_400 }),
});

export const UsageReportPayloadSchema = Type.Object({
  nodeId: Id,
  seq: Seq,
  /** ISO times bounding the sampled interval. */
  from: Iso,
  to: Iso,
  workloads: Type.Array(WorkloadUsageSchema, { maxItems: 256 }),
});
export type UsageReportPayload = Static<typeof UsageReportPayloadSchema>;

export const HardwareSnapshotPayloadSchema = Type.Object({
  nodeId: Id,
  takenAt: Iso,
  hardware: HardwareFactsSchema,
});
export type HardwareSnapshotPayload = Static<typeof HardwareSnapshotPayloadSchema>;
