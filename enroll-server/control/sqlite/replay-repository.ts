import type { Db } from '../../core/sqlite/database.js';
import type { Run } from '../../core/sqlite/engine.js';
import type { ReplayRepository } from '../replay-repository.js';

export function sqliteReplayRepository(db: Db): (run: Run) => ReplayRepository {
  const insert = db.prepare(
    'INSERT INTO used_node_tokens (node_id, jti, expires_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
  );
  const prune = db.prepare('DELETE FROM used_node_tokens WHERE expires_at <= ?');
  return (run) => ({
    use(nodeId, jti, expiresAt) {
      return run(() => insert.run(nodeId, jti, expiresAt).changes === 1);
    },
    prune(now) {
      return run(() => prune.run(now).changes);
    },
  });
}
