import type { AttemptRepository } from '../attempt-repository.js';
import type { Sql } from './engine.js';

/** One statement per call (autocommit): the upsert locks the key's row, so replicas count in turn. */
export function postgresAttemptRepository(sql: Sql): AttemptRepository {
  return {
    take: async (key, limit, windowMs, now) => {
      // The full window's end comes from the same statement: no second read that could race.
      const row = await sql.row<{ counted: boolean; reset_at: number }>(
        `WITH taken AS (
           INSERT INTO attempt_counters AS c (key, count, reset_at) VALUES ($1, 1, $4::bigint + $3::bigint)
           ON CONFLICT (key) DO UPDATE SET
             count = CASE WHEN c.reset_at <= $4 THEN 1 ELSE c.count + 1 END,
             reset_at = CASE WHEN c.reset_at <= $4 THEN $4::bigint + $3::bigint ELSE c.reset_at END
           WHERE c.reset_at <= $4 OR c.count < $2
           RETURNING reset_at)
         SELECT true AS counted, reset_at FROM taken
         UNION ALL
         SELECT false, reset_at FROM attempt_counters WHERE key = $1 AND NOT EXISTS (SELECT 1 FROM taken)`,
        [key, limit, windowMs, now],
      );
      return { counted: row?.counted ?? false, resetAt: row ? Number(row.reset_at) : now };
    },
    giveBack: async (key, resetAt) => {
      await sql.run(
        'UPDATE attempt_counters SET count = count - 1 WHERE key = $1 AND reset_at = $2 AND count > 0',
        [key, resetAt],
      );
    },
    blockedUntil: async (key, limit, now) => {
      const row = await sql.row<{ reset_at: number }>(
        'SELECT reset_at FROM attempt_counters WHERE key = $1 AND count >= $2 AND reset_at > $3',
        [key, limit, now],
      );
      return row ? Number(row.reset_at) : null;
    },
    prune: (now) => sql.run('DELETE FROM attempt_counters WHERE reset_at <= $1', [now]),
  };
}
