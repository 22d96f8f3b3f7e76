/**
 * A node's continuous-audit state as node detail and the fleet list show it (DESIGN.md
 * "Continuous audits"). The audits capability implements `AuditStateSource`
 * (`audits/audit-state-source.ts`); `createNoAuditState` is the source where audits are not wired.
 */
export type AuditStateName = 'never' | 'passing' | 'failing' | 'stale';

export interface AuditStateView {
  state: AuditStateName;
  /** Since when the node is in this state (null: never audited). */
  since: number | null;
  lastAuditId: string | null;
  lastPassedAt: number | null;
  /** When the next audit is due; an audit waiting to run is due now (its request time). */
  nextAuditAt: number | null;
  /** An audit queued or running right now. */
  current: { id: string; status: 'queued' | 'running' } | null;
  /** When the owner may ask for a new audit again ("check again"); null: now. */
  checkAgainAt: number | null;
}

/** Which node ids a list filtered by audit state may show. */
export interface AuditStateFilter {
  ids?: readonly string[];
  excludeIds?: readonly string[];
}

export interface AuditStateSource {
  views(nodeIds: readonly string[], now: number): Promise<Map<string, AuditStateView>>;
  filter(state: AuditStateName, now: number): Promise<AuditStateFilter>;
}

export const NEVER_AUDITED: AuditStateView = Object.freeze({
  state: 'never',
  since: null,
  lastAuditId: null,
  lastPassedAt: null,
  nextAuditAt: null,
  current: null,
  checkAgainAt: null,
});

export function createNoAuditState(): AuditStateSource {
  return {
    views: async () => new Map(),
    filter: async (state) => (state === 'never' ? {} : { ids: [] }),
  };
}
