import type { Sql } from '../../core/postgres/engine.js';
import type { ReplayRepository } from '../replay-repository.js';

/** In the database, so every replica refuses a token another one has seen. */
export function postgresReplayRepository(sql: Sql): ReplayRepository {
  return {
    use: async (nodeId, jti, expiresAt) =>
      (await sql.run(
        'INSERT INTO used_node_tokens (node_id, jti, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
        [nodeId, jti, expiresAt],
      )) === 1,
    prune: (now) => sql.run('DELETE FROM used_node_tokens WHERE expires_at <= $1', [now]),
  };
}
