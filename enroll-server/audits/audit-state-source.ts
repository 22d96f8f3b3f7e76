/**
 * Node detail and the fleet list read each node's audit state through this (nodes/audit-state-view.ts):
 * the stored state with `stale` derived, the audit queued or running, when the next one is due,
 * and when the owner may ask again.
 */
import type { AuditPolicy } from '../../protocol/audit-policy.js';
import type {
  AuditStateFilter,
  AuditStateName,
  AuditStateSource,
  AuditStateView,
} from '../nodes/audit-state-view.js';
import { NEVER_AUDITED } from '../nodes/audit-state-view.js';
import type { AuditRepository } from './audit-repository.js';
import { auditStateAt, ownerRetryAt, staleAfterMs } from './audit-rules.js';

export function createAuditStateSource(audits: AuditRepository, policy: AuditPolicy): AuditStateSource {
  return {
    async views(nodeIds, now) {
      const [states, open] = await Promise.all([audits.states(nodeIds), audits.openFor(nodeIds)]);
      const current = new Map<string, { id: string; status: 'queued' | 'running'; requestedAt: number }>();
      for (const a of open) {
        // A running audit is the one to show; otherwise the waiting one.
        if (a.status !== 'queued' && a.status !== 'running') continue;
        if (!current.has(a.nodeId) || a.status === 'running')
          current.set(a.nodeId, { id: a.id, status: a.status, requestedAt: a.requestedAt });
      }
      const views = new Map<string, AuditStateView>();
      for (const s of states) {
        const pending = current.get(s.nodeId);
        views.set(s.nodeId, {
          state: auditStateAt(s.state, s.lastPassedAt, now, policy),
          since: s.stateSince,
          lastAuditId: s.lastAuditId,
          lastPassedAt: s.lastPassedAt,
          nextAuditAt: pending ? pending.requestedAt : s.nextAuditAt,
          current: pending ? { id: pending.id, status: pending.status } : null,
          checkAgainAt: ownerRetryAt(s.ownerRequestedAt, now),
        });
      }
      for (const [nodeId, c] of current) {
        if (!views.has(nodeId))
          views.set(nodeId, {
            ...NEVER_AUDITED,
            nextAuditAt: c.requestedAt,
            current: { id: c.id, status: c.status },
          });
      }
      return views;
    },

    async filter(state: AuditStateName, now: number): Promise<AuditStateFilter> {
      const staleBefore = now - staleAfterMs(policy);
      switch (state) {
        case 'failing':
          return { ids: await audits.nodeIdsInState(['failing']) };
        case 'passing':
          return { ids: await audits.nodeIdsInState(['passing'], { since: staleBefore }) };
        case 'stale':
          return { ids: await audits.nodeIdsInState(['passing'], { before: staleBefore }) };
        case 'never':
          // Nodes without a state row have never been audited either.
          return { excludeIds: await audits.nodeIdsInState(['passing', 'failing']) };
      }
    },
  };
}
