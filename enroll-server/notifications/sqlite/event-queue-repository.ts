import type { DomainEvent } from '../../core/domain-events.js';
import type { Db } from '../../core/sqlite/database.js';
import type { Run } from '../../core/sqlite/engine.js';
import type { EventQueueRepository } from '../event-queue-repository.js';

export function sqliteEventQueueRepository(db: Db): (run: Run) => EventQueueRepository {
  const pending = db.prepare<[number], { id: string; at: number; data: string }>(
    'SELECT id, at, data FROM domain_events WHERE dispatched_at IS NULL ORDER BY seq LIMIT ?',
  );
  const mark = db.prepare(
    'UPDATE domain_events SET dispatched_at = ? WHERE id = ? AND dispatched_at IS NULL',
  );
  const purge = db.prepare('DELETE FROM domain_events WHERE dispatched_at IS NOT NULL AND dispatched_at < ?');
  return (run) => ({
    pending: (limit) =>
      run(() =>
        pending.all(limit).map((r) => ({ id: r.id, at: r.at, event: JSON.parse(r.data) as DomainEvent })),
      ),
    markDispatched: (id, at) => run(() => mark.run(at, id).changes === 1),
    purge: (before) => run(() => purge.run(before).changes),
  });
}
