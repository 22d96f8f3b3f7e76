/**
 * HTTP wire contract shared by the server, the agent, the CLI and the dashboard: roles, statuses,
 * error codes and the enrollment request/response (DESIGN.md "HTTP API", "The enrollment body").
 */
import { Type, type Static } from 'typebox';
import { CheckSchema, HardwareFactsSchema } from './hardware.js';

export const API_PREFIX = '/v1';
export const ENROLL_BODY_LIMIT_BYTES = 1024 * 1024;

export const ROLES = ['admin', 'ops', 'reviewer', 'owner'] as const;
export type Role = (typeof ROLES)[number];

export const NodeStatusSchema = Type.Union([
  Type.Literal('pending'),
  Type.Literal('approved'),
  Type.Literal('active'),
  Type.Literal('rejected'),
  Type.Literal('revoked'),
]);
export type NodeStatus = Static<typeof NodeStatusSchema>;
export const NODE_STATUSES: readonly NodeStatus[] = ['pending', 'approved', 'active', 'rejected', 'revoked'];

export const RoleSchema = Type.Union([
  Type.Literal('admin'),
  Type.Literal('ops'),
  Type.Literal('reviewer'),
  Type.Literal('owner'),
]);

/** Error codes a client may act on. Every error body is `{ error: { code, message, details? } }`. */
export const ERROR_CODES = {
  VALIDATION_FAILED: 400,
  MALFORMED_JSON: 400,
  PRIVATE_KEY_SENT: 400,
  LINK_INVALID: 400,
  LINK_EXPIRED: 400,
  LINK_USED: 400,
  WEBHOOK_URL_REFUSED: 400,
  UNAUTHENTICATED: 401,
  KEY_INVALID: 401,
  KEY_EXPIRED: 401,
  KEY_USED: 401,
  KEY_REVOKED: 401,
  FORBIDDEN: 403,
  HARDWARE_REJECTED: 403,
  NODE_REVOKED: 403,
  NODE_REJECTED: 403,
  EMAIL_NOT_VERIFIED: 403,
  NODE_NOT_APPROVED: 403,
  NOT_FOUND: 404,
  NOT_ATTESTED: 404,
  CONFLICT: 409,
  FINGERPRINT_CONFLICT: 409,
  INVALID_TRANSITION: 409,
  PERIOD_NOT_ENDED: 409,
  NO_RATE_CARD: 409,
  ARTIFACT_EXISTS: 409,
  BODY_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RANGE_NOT_SATISFIABLE: 416,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  STORAGE_FULL: 507,
} as const;
export type ErrorCode = keyof typeof ERROR_CODES;

export const ErrorBodySchema = Type.Object({
  error: Type.Object({
    code: Type.String(),
    message: Type.String(),
    details: Type.Optional(Type.Unknown()),
  }),
});
export type ErrorBody = Static<typeof ErrorBodySchema>;

/** An Ed25519 public JWK. A private JWK (with `d`) is refused by the server before any lookup. */
export const PublicJwkSchema = Type.Object({
  kty: Type.Literal('OKP'),
  crv: Type.Literal('Ed25519'),
  x: Type.String({ pattern: '^[A-Za-z0-9_-]{43}$', description: 'base64url of the 32-byte public key' }),
});
export type PublicJwk = Static<typeof PublicJwkSchema>;

export const EnrollRequestSchema = Type.Object({
  installationKey: Type.String({ minLength: 1, maxLength: 64 }),
  publicKey: PublicJwkSchema,
  fingerprint: Type.String({
    pattern: '^[0-9a-f]{64}$',
    description: 'hex SHA-256 of the stable hardware ids',
  }),
  hardware: HardwareFactsSchema,
  preflight: Type.Array(CheckSchema, { maxItems: 64 }),
  agentVersion: Type.String({ minLength: 1, maxLength: 64 }),
});
export type EnrollRequest = Static<typeof EnrollRequestSchema>;

export const EnrollResponseSchema = Type.Object({
  nodeId: Type.String(),
  status: NodeStatusSchema,
  /** True when this answers a retry of an enrollment that already succeeded. */
  existing: Type.Optional(Type.Boolean()),
  /** True when the fingerprint matched one of the owner's nodes (a re-install keeps the node id). */
  reinstall: Type.Optional(Type.Boolean()),
});
export type EnrollResponse = Static<typeof EnrollResponseSchema>;
