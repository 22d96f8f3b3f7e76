/** Node list and detail schemas and views: presence and uptime joined to the stored record. */
import { Type, type Static } from 'typebox';
import { NodeStatusSchema } from '../../protocol/api.js';
import { groupGpus } from '../../protocol/attributes.js';
import { CheckSchema, HardwareFactsSchema } from '../../protocol/hardware.js';
import { IsoTime, NullableIsoTime, Paging, iso, isoOrNull } from '../core/schemas.js';
import { type AuditStateView, NEVER_AUDITED } from './audit-state-view.js';
import type { NodeFlag } from './flag-repository.js';
import type { NodeRecord } from './node-repository.js';
import type { PresenceView } from './presence-view.js';

const AttributeSchema = Type.Object({ key: Type.String(), value: Type.String() });

export const NodeFlagSchema = Type.Object({
  kind: Type.String(),
  message: Type.String(),
  createdAt: IsoTime,
  /** How many times it happened while open, and when last. */
  count: Type.Integer({ minimum: 1 }),
  lastSeenAt: IsoTime,
  resolvedAt: NullableIsoTime,
});

/** Node detail carries this many of the most recently seen flags; `GET /v1/nodes/:id/flags` pages the rest. */
export const DETAIL_FLAGS = 20;
export const AUDIT_STATE_NAMES = ['never', 'passing', 'failing', 'stale'] as const;

/** The node's continuous-audit state (DESIGN.md "Continuous audits"). */
export const NodeAuditSchema = Type.Object({
  state: Type.Enum(AUDIT_STATE_NAMES),
  since: NullableIsoTime,
  lastAuditId: Type.Union([Type.String(), Type.Null()]),
  lastPassedAt: NullableIsoTime,
  nextAuditAt: NullableIsoTime,
  current: Type.Union([
    Type.Object({ id: Type.String(), status: Type.Enum(['queued', 'running']) }),
    Type.Null(),
  ]),
  checkAgainAt: NullableIsoTime,
});

export const NodeSummarySchema = Type.Object({
  id: Type.String(),
  ownerId: Type.String(),
  status: NodeStatusSchema,
  statusReason: Type.Union([Type.String(), Type.Null()]),
  online: Type.Boolean(),
  lastSeenAt: NullableIsoTime,
  gpus: Type.Array(Type.Object({ model: Type.String(), memory: Type.String(), count: Type.Integer() })),
  uptime: Type.Object({ last24h: Type.Number(), last7d: Type.Number(), upSeconds: Type.Number() }),
  agentVersion: Type.String(),
  audit: NodeAuditSchema,
  enrolledAt: IsoTime,
  approvedAt: NullableIsoTime,
});

export const NodeDetailSchema = Type.Intersect([
  NodeSummarySchema,
  Type.Object({
    fingerprint: Type.String(),
    hardware: HardwareFactsSchema,
    preflight: Type.Array(CheckSchema),
    attributes: Type.Array(AttributeSchema),
    labels: Type.Record(Type.String(), Type.String()),
    metrics: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
    flags: Type.Array(NodeFlagSchema, { description: `the ${DETAIL_FLAGS} most recently seen` }),
    /** How many flags the node has in all (open and resolved). */
    flagsTotal: Type.Integer(),
    createdAt: IsoTime,
    /** The node is online and its agent serves remote shells. */
    shellEnabled: Type.Boolean(),
  }),
]);

export const NodeListQuery = Type.Object({
  status: Type.Optional(NodeStatusSchema),
  online: Type.Optional(Type.Boolean()),
  q: Type.Optional(Type.String({ maxLength: 200 })),
  agentVersion: Type.Optional(
    Type.String({
      maxLength: 64,
      pattern: '^[A-Za-z0-9.+~_-]+$',
      description: 'only nodes on this agent version',
    }),
  ),
  ownerId: Type.Optional(Type.String({ maxLength: 64 })),
  audit: Type.Optional(Type.Enum(AUDIT_STATE_NAMES, { description: 'only nodes in this audit state' })),
  ...Paging,
});

export type NodeSummaryView = Static<typeof NodeSummarySchema>;
export type NodeDetailView = Static<typeof NodeDetailSchema>;

export type NodeAuditView = Static<typeof NodeAuditSchema>;

export function nodeAuditView(a: AuditStateView = NEVER_AUDITED): NodeAuditView {
  return {
    state: a.state,
    since: isoOrNull(a.since),
    lastAuditId: a.lastAuditId,
    lastPassedAt: isoOrNull(a.lastPassedAt),
    nextAuditAt: isoOrNull(a.nextAuditAt),
    current: a.current,
    checkAgainAt: isoOrNull(a.checkAgainAt),
  };
}

export function nodeSummaryView(
  n: NodeRecord,
  presence: PresenceView,
  audit?: AuditStateView,
): NodeSummaryView {
  return {
    id: n.id,
    ownerId: n.ownerId,
    status: n.status,
    statusReason: n.statusReason,
    online: presence.online,
    lastSeenAt: isoOrNull(presence.lastSeenAt ?? n.lastSeenAt),
    gpus: groupGpus(n.hardware).map((g) => ({ model: g.model, memory: g.memory, count: g.count })),
    uptime: presence.uptime,
    agentVersion: n.agentVersion,
    audit: nodeAuditView(audit),
    enrolledAt: iso(n.enrolledAt),
    approvedAt: isoOrNull(n.approvedAt),
  };
}

export const flagView = (f: NodeFlag): Static<typeof NodeFlagSchema> => ({
  kind: f.kind,
  message: f.message,
  createdAt: iso(f.createdAt),
  count: f.count,
  lastSeenAt: iso(f.lastSeenAt),
  resolvedAt: isoOrNull(f.resolvedAt),
});

export function nodeDetailView(
  n: NodeRecord,
  presence: PresenceView,
  flags: { flags: NodeFlag[]; total: number },
  audit?: AuditStateView,
): NodeDetailView {
  return {
    ...nodeSummaryView(n, presence, audit),
    fingerprint: n.fingerprint,
    hardware: n.hardware,
    preflight: n.preflight,
    attributes: n.attributes,
    labels: n.labels,
    metrics: presence.metrics,
    flags: flags.flags.map(flagView),
    flagsTotal: flags.total,
    createdAt: iso(n.createdAt),
    shellEnabled: presence.shellEnabled,
  };
}
