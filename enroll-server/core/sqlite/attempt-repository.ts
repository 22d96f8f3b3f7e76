import type { AttemptRepository } from '../attempt-repository.js';
import type { Db } from './database.js';
import type { Run } from './engine.js';

export function sqliteAttemptRepository(db: Db): (run: Run) => AttemptRepository {
  // Counted when the window expired (a new one starts) or still has room; otherwise no row changes.
  const take = db.prepare<
    { key: string; limit: number; windowMs: number; now: number },
    { count: number; reset_at: number }
  >(
    `INSERT INTO attempt_counters (key, count, reset_at) VALUES (@key, 1, @now + @windowMs)
     ON CONFLICT (key) DO UPDATE SET
       count = CASE WHEN reset_at <= @now THEN 1 ELSE count + 1 END,
       reset_at = CASE WHEN reset_at <= @now THEN @now + @windowMs ELSE reset_at END
     WHERE reset_at <= @now OR count < @limit
     RETURNING count, reset_at`,
  );
  const resetAt = db.prepare<[string], { reset_at: number }>(
    'SELECT reset_at FROM attempt_counters WHERE key = ?',
  );
  const giveBack = db.prepare(
    'UPDATE attempt_counters SET count = count - 1 WHERE key = ? AND reset_at = ? AND count > 0',
  );
  const blocked = db.prepare<[string, number, number], { reset_at: number }>(
    'SELECT reset_at FROM attempt_counters WHERE key = ? AND count >= ? AND reset_at > ?',
  );
  const prune = db.prepare('DELETE FROM attempt_counters WHERE reset_at <= ?');
  return (run) => ({
    take(key, limit, windowMs, now) {
      return run(() => {
        const row = take.get({ key, limit, windowMs, now });
        if (row) return { counted: true, resetAt: row.reset_at };
        return { counted: false, resetAt: resetAt.get(key)?.reset_at ?? now };
      });
    },
    giveBack(key, at) {
      return run(() => {
        giveBack.run(key, at);
      });
    },
    blockedUntil(key, limit, now) {
      return run(() => blocked.get(key, limit, now)?.reset_at ?? null);
    },
    prune(now) {
      return run(() => prune.run(now).changes);
    },
  });
}
