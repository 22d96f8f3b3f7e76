import type { ActivityEntry, ActivityLog, ActorType } from '../activity-log.js';
import type { Sql } from './engine.js';

type ActivityRow = {
  id: number;
  at: number;
  actor_type: ActorType;
  actor_id: string | null;
  actor_role: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  details: string | null;
};

const toEntry = (r: ActivityRow): ActivityEntry => ({
  id: r.id,
  at: r.at,
  actor: { type: r.actor_type, id: r.actor_id, role: r.actor_role },
  action: r.action,
  targetType: r.target_type,
  targetId: r.target_id,
  details: r.details === null ? null : (JSON.parse(r.details) as unknown),
});

export function postgresActivityLog(sql: Sql): ActivityLog {
  return {
    record: async (at, actor, action, target, details) => {
      await sql.run(
        `INSERT INTO activity_log (at, actor_type, actor_id, actor_role, action, target_type, target_id, details)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [
          at,
          actor.type,
          actor.id,
          actor.role ?? null,
          action,
          target?.type ?? null,
          target?.id ?? null,
          details === undefined ? null : JSON.stringify(details),
        ],
      );
    },
    list: async (filter) =>
      (
        await sql.rows<ActivityRow>(
          `SELECT * FROM activity_log
           WHERE ($1::text IS NULL OR target_type = $1) AND ($2::text IS NULL OR target_id = $2)
             AND ($3::text IS NULL OR action = $3) AND ($4::bigint IS NULL OR id < $4)
           ORDER BY id DESC LIMIT $5`,
          [
            filter.targetType ?? null,
            filter.targetId ?? null,
            filter.action ?? null,
            filter.before ?? null,
            filter.limit,
          ],
        )
      ).map(toEntry),
  };
}
