import type { ActivityEntry, ActivityLog, ActorType } from '../activity-log.js';
import type { Db } from './database.js';
import type { Run } from './engine.js';

interface ActivityRow {
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

const toEntry = (r: ActivityRow): ActivityEntry => ({
  id: r.id,
  at: r.at,
  actor: { type: r.actor_type, id: r.actor_id, role: r.actor_role },
  action: r.action,
  targetType: r.target_type,
  targetId: r.target_id,
  details: r.details === null ? null : (JSON.parse(r.details) as unknown),
});

export function sqliteActivityLog(db: Db): (run: Run) => ActivityLog {
  const insert = db.prepare(
    `INSERT INTO activity_log (at, actor_type, actor_id, actor_role, action, target_type, target_id, details)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const list = db.prepare<Record<string, string | number | null>, ActivityRow>(
    `SELECT * FROM activity_log
     WHERE (@targetType IS NULL OR target_type = @targetType) AND (@targetId IS NULL OR target_id = @targetId)
       AND (@action IS NULL OR action = @action) AND (@before IS NULL OR id < @before)
     ORDER BY id DESC LIMIT @limit`,
  );
  return (run) => ({
    record(at, actor, action, target, details) {
      return run(() => {
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
      });
    },
    list(filter) {
      return run(() =>
        list
          .all({
            targetType: filter.targetType ?? null,
            targetId: filter.targetId ?? null,
            action: filter.action ?? null,
            before: filter.before ?? null,
            limit: filter.limit,
          })
          .map(toEntry),
      );
    },
  });
}
