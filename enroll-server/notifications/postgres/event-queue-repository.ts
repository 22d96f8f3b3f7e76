import type { DomainEvent } from '../../core/domain-events.js';
import type { Sql } from '../../core/postgres/engine.js';
import type { EventQueueRepository } from '../event-queue-repository.js';

export function postgresEventQueueRepository(sql: Sql): EventQueueRepository {
  return {
    pending: async (limit) =>
      (
        await sql.rows<{ id: string; at: number; data: string }>(
          'SELECT id, at, data FROM domain_events WHERE dispatched_at IS NULL ORDER BY seq LIMIT $1',
          [limit],
        )
      ).map((r) => ({ id: r.id, at: r.at, event: JSON.parse(r.data) as DomainEvent })),
    markDispatched: async (id, at) =>
      (await sql.run('UPDATE domain_events SET dispatched_at = $1 WHERE id = $2 AND dispatched_at IS NULL', [
        at,
        id,
      ])) === 1,
    purge: (before) =>
      sql.run('DELETE FROM domain_events WHERE dispatched_at IS NOT NULL AND dispatched_at < $1', [before]),
  };
}
