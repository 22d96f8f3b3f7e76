import type { Db } from './database.js';

export type ActorType = 'token' | 'key' | 'node' | 'system';

export interface Actor {
  type: ActorType;
  id: string | null;
  role?: string | null;
}

export interface AuditEntry {
  id: number;
  at: number;
  actor: Actor;
  action: string;
  targetType: string | null;
  targetId: string | null;
  details: unknown;
}

interface AuditRow {
  id: number;
  at: number;
  actor_type: ActorType;
  actor_id: string | null;
  actor_role: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  details: string | null;
}

export interface AuditFilter {
  targetType?: string;
  targetId?: string;
  action?: string;
  before?: number;
  limit: number;
}

export function createAuditRepository(db: Db) {
  const insert = db.prepare(
    `INSERT INTO audit_log (at, actor_type, actor_id, actor_role, action, target_type, target_id, details)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const list = db.prepare<Record<string, string | number | null>, AuditRow>(
    `SELECT * FROM audit_log
     WHERE (@targetType IS NULL OR target_type = @targetType) AND (@targetId IS NULL OR target_id = @targetId)
       AND (@action IS NULL OR action = @action) AND (@before IS NULL OR id < @before)
     ORDER BY id DESC LIMIT @limit`,
  );
  return {
    record(
      at: number,
      actor: Actor,
      action: string,
      target?: { type: string; id: string },
      details?: unknown,
    ): void {
      insert.run(
        at,
        actor.type,
        actor.id,
        actor.role ?? null,
        action,
        target?.type ?? null,
        target?.id ?? null,
        details === undefined ? null : JSON.stringify(details),
      );
    },
    list(filter: AuditFilter): AuditEntry[] {
      return list
        .all({
          targetType: filter.targetType ?? null,
          targetId: filter.targetId ?? null,
          action: filter.action ?? null,
          before: filter.before ?? null,
          limit: filter.limit,
        })
        .map((r) => ({
          id: r.id,
          at: r.at,
          actor: { type: r.actor_type, id: r.actor_id, role: r.actor_role },
          action: r.action,
          targetType: r.target_type,
          targetId: r.target_id,
          details: r.details === null ? null : (JSON.parse(r.details) as unknown),
        }));
    },
  };
}
export type AuditRepository = ReturnType<typeof createAuditRepository>;
