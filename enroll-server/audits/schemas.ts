/** The audit routes' answers and their views (DESIGN.md "Continuous audits": routes). */
import { Type, type Static } from 'typebox';
import { AuditCheckIdSchema, AuditCheckSchema, AuditSkipSchema } from '../../protocol/audit.js';
import { IsoTime, NullableIsoTime, iso, isoOrNull } from '../core/schemas.js';
import type { AuditRecord } from './audit-repository.js';
import { AUDIT_STATUSES, AUDIT_TRIGGERS } from './audit-rules.js';
import type { AuditProgress } from './audit-service.js';

export const AuditViewSchema = Type.Object({
  id: Type.String(),
  nodeId: Type.String(),
  trigger: Type.Enum(AUDIT_TRIGGERS),
  status: Type.Enum(AUDIT_STATUSES),
  requestedAt: IsoTime,
  startedAt: NullableIsoTime,
  finishedAt: NullableIsoTime,
  /** The verified checks of the report (empty until it arrives); links point at our own guide. */
  checks: Type.Array(AuditCheckSchema),
  skipped: Type.Array(AuditSkipSchema),
  /** The diagnostics bundle collected after a failure (`GET …/audits/:auditId/diagnostics`). */
  diagnosticsId: Type.Union([Type.String(), Type.Null()]),
  /** Why the audit ended without a verdict (`error`). */
  error: Type.Union([Type.String(), Type.Null()]),
  agentVersion: Type.Union([Type.String(), Type.Null()]),
  /** While running: the check the node is on. */
  progress: Type.Union([
    Type.Object({ check: AuditCheckIdSchema, done: Type.Integer(), total: Type.Integer() }),
    Type.Null(),
  ]),
});
export type AuditView = Static<typeof AuditViewSchema>;

export const AuditQueuedSchema = Type.Object({
  id: Type.String(),
  status: Type.Enum(['queued', 'running']),
});

export const AuditListSchema = Type.Object({
  audits: Type.Array(AuditViewSchema),
  total: Type.Integer(),
});

const StateCounts = Type.Object({
  never: Type.Integer(),
  passing: Type.Integer(),
  failing: Type.Integer(),
  stale: Type.Integer(),
});

export const AuditSummarySchema = Type.Object({
  /** Approved and active nodes by audit state. */
  states: StateCounts,
  running: Type.Integer(),
  queued: Type.Integer(),
  maxConcurrent: Type.Integer(),
  /** Checks that failing nodes fail, the most nodes first, with their most common summaries. */
  failingChecks: Type.Array(
    Type.Object({
      id: Type.String(),
      nodes: Type.Integer(),
      summaries: Type.Array(Type.Object({ summary: Type.String(), nodes: Type.Integer() })),
    }),
  ),
});
export type AuditSummaryView = Static<typeof AuditSummarySchema>;

export function auditView(a: AuditRecord, progress: AuditProgress | null): AuditView {
  return {
    id: a.id,
    nodeId: a.nodeId,
    trigger: a.trigger,
    status: a.status,
    requestedAt: iso(a.requestedAt),
    startedAt: isoOrNull(a.startedAt),
    finishedAt: isoOrNull(a.finishedAt),
    checks: a.checks ?? [],
    skipped: a.skipped ?? [],
    diagnosticsId: a.diagnosticsId,
    error: a.error,
    agentVersion: a.agentVersion,
    progress: a.status === 'running' ? progress : null,
  };
}
