/** Response and request schemas of the HTTP API; the response schemas also keep hashes and secrets out. */
import { Type, type Static } from 'typebox';
import { ErrorBodySchema, NodeStatusSchema, RoleSchema } from '../../protocol/api.js';
import { CheckSchema, HardwareFactsSchema } from '../../protocol/hardware.js';

export const IsoTime = Type.String({ format: 'date-time' });
export const NullableIsoTime = Type.Union([IsoTime, Type.Null()]);
export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
export const Paging = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
};

/** Error answers a route may give, for the OpenAPI document. */
export function errors(...codes: number[]): Record<number, typeof ErrorBodySchema> {
  return Object.fromEntries(codes.map((c) => [c, ErrorBodySchema]));
}

export const OwnerSchema = Type.Object({
  id: Type.String(),
  email: Type.String(),
  name: Type.String(),
  createdAt: IsoTime,
});

export const CreateOwnerBody = Type.Object(
  {
    email: Type.String({ format: 'email', maxLength: 254 }),
    name: Type.String({ minLength: 1, maxLength: 200 }),
  },
  { additionalProperties: false },
);

export const TokenSchema = Type.Object({
  id: Type.String(),
  role: RoleSchema,
  ownerId: Type.Union([Type.String(), Type.Null()]),
  label: Type.Union([Type.String(), Type.Null()]),
  createdAt: IsoTime,
  revokedAt: NullableIsoTime,
});

export const CreateTokenBody = Type.Object(
  {
    role: RoleSchema,
    ownerId: Type.Optional(Type.String({ maxLength: 64 })),
    label: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

export const KeySchema = Type.Object({
  id: Type.String(),
  keyId: Type.String(),
  masked: Type.String({ description: 'the key with its secret hidden' }),
  ownerId: Type.String(),
  label: Type.Union([Type.String(), Type.Null()]),
  createdAt: IsoTime,
  expiresAt: IsoTime,
  maxUses: Type.Integer(),
  uses: Type.Integer(),
  revokedAt: NullableIsoTime,
  state: Type.Union([
    Type.Literal('active'),
    Type.Literal('expired'),
    Type.Literal('used'),
    Type.Literal('revoked'),
  ]),
});

export const CreatedKeySchema = Type.Intersect([
  KeySchema,
  Type.Object({ key: Type.String({ description: 'the installation key, shown only in this answer' }) }),
]);

export const CreateKeyBody = Type.Object(
  {
    ownerId: Type.Optional(Type.String({ maxLength: 64 })),
    ttlHours: Type.Optional(Type.Integer({ minimum: 1 })),
    maxUses: Type.Optional(Type.Integer({ minimum: 1 })),
    label: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

const AttributeSchema = Type.Object({ key: Type.String(), value: Type.String() });

export const NodeFlagSchema = Type.Object({
  kind: Type.String(),
  message: Type.String(),
  createdAt: IsoTime,
  resolvedAt: NullableIsoTime,
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
    flags: Type.Array(NodeFlagSchema),
    createdAt: IsoTime,
  }),
]);

export const NodeListQuery = Type.Object({
  status: Type.Optional(NodeStatusSchema),
  online: Type.Optional(Type.Boolean()),
  q: Type.Optional(Type.String({ maxLength: 200 })),
  ownerId: Type.Optional(Type.String({ maxLength: 64 })),
  ...Paging,
});

export const AuditEntrySchema = Type.Object({
  id: Type.Integer(),
  at: IsoTime,
  actor: Type.Object({
    type: Type.String(),
    id: Type.Union([Type.String(), Type.Null()]),
    role: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  }),
  action: Type.String(),
  targetType: Type.Union([Type.String(), Type.Null()]),
  targetId: Type.Union([Type.String(), Type.Null()]),
  details: Type.Unknown(),
});

export type OwnerView = Static<typeof OwnerSchema>;
export type TokenView = Static<typeof TokenSchema>;
export type KeyView = Static<typeof KeySchema>;
export type NodeSummaryView = Static<typeof NodeSummarySchema>;
export type NodeDetailView = Static<typeof NodeDetailSchema>;
