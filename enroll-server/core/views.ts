/** Records → API views (ISO times, derived fields, nothing secret). */
import { groupGpus } from '../../protocol/attributes.js';
import { maskInstallationKey } from '../../protocol/key.js';
import type { AuditEntry } from './sqlite/activity-log.js';
import type { NodeFlag } from '../nodes/sqlite/flag-repository.js';
import type { InstallationKeyRecord } from '../enrollment/sqlite/key-repository.js';
import type { NodeRecord } from '../nodes/sqlite/node-repository.js';
import type { Owner } from '../accounts/sqlite/owner-repository.js';
import type { ApiTokenRecord } from '../accounts/sqlite/token-repository.js';
import type { PresenceView } from '../nodes/presence-view.js';
import type { KeyView, NodeDetailView, NodeSummaryView, OwnerView, TokenView } from './schemas.js';

export const iso = (ms: number): string => new Date(ms).toISOString();
export const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));

export const ownerView = (o: Owner): OwnerView => ({
  id: o.id,
  email: o.email,
  name: o.name,
  createdAt: iso(o.createdAt),
});

export const tokenView = (t: ApiTokenRecord): TokenView => ({
  id: t.id,
  role: t.role,
  ownerId: t.ownerId,
  label: t.label,
  createdAt: iso(t.createdAt),
  revokedAt: isoOrNull(t.revokedAt),
});

export function keyState(k: InstallationKeyRecord, now: number): KeyView['state'] {
  if (k.revokedAt !== null) return 'revoked';
  if (k.uses >= k.maxUses) return 'used';
  if (k.expiresAt <= now) return 'expired';
  return 'active';
}

export const keyView = (k: InstallationKeyRecord, now: number): KeyView => ({
  id: k.id,
  keyId: k.keyId,
  masked: maskInstallationKey(k.keyId),
  ownerId: k.ownerId,
  label: k.label,
  createdAt: iso(k.createdAt),
  expiresAt: iso(k.expiresAt),
  maxUses: k.maxUses,
  uses: k.uses,
  revokedAt: isoOrNull(k.revokedAt),
  state: keyState(k, now),
});

export function nodeSummaryView(n: NodeRecord, presence: PresenceView): NodeSummaryView {
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
    enrolledAt: iso(n.enrolledAt),
    approvedAt: isoOrNull(n.approvedAt),
  };
}

export function nodeDetailView(n: NodeRecord, presence: PresenceView, flags: NodeFlag[]): NodeDetailView {
  return {
    ...nodeSummaryView(n, presence),
    fingerprint: n.fingerprint,
    hardware: n.hardware,
    preflight: n.preflight,
    attributes: n.attributes,
    labels: n.labels,
    metrics: presence.metrics,
    flags: flags.map((f) => ({
      kind: f.kind,
      message: f.message,
      createdAt: iso(f.createdAt),
      resolvedAt: isoOrNull(f.resolvedAt),
    })),
    createdAt: iso(n.createdAt),
  };
}

export const auditView = (e: AuditEntry) => ({ ...e, at: iso(e.at) });
