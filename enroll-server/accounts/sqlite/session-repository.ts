import type { Db } from '../../core/sqlite/database.js';
import type { Run } from '../../core/sqlite/engine.js';
import type { SessionMethod, SessionRecord, SessionRepository } from '../session-repository.js';

interface SessionRow {
  id: string;
  token_id: string;
  csrf_token: string;
  method: SessionMethod;
  created_at: number;
  last_used_at: number;
  expires_at: number;
  ended_at: number | null;
}

const toSession = (r: SessionRow): SessionRecord => ({
  id: r.id,
  tokenId: r.token_id,
  csrfToken: r.csrf_token,
  method: r.method,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  expiresAt: r.expires_at,
  endedAt: r.ended_at,
});

export function sqliteSessionRepository(db: Db): (run: Run) => SessionRepository {
  const insert = db.prepare(
    `INSERT INTO sessions (id, secret_hash, token_id, csrf_token, method, created_at, last_used_at, expires_at)
     VALUES (@id, @secretHash, @tokenId, @csrfToken, @method, @createdAt, @createdAt, @expiresAt)`,
  );
  const byHash = db.prepare<{ hash: string; now: number }, SessionRow>(
    `SELECT id, token_id, csrf_token, method, created_at, last_used_at, expires_at, ended_at FROM sessions
     WHERE secret_hash = @hash AND ended_at IS NULL AND expires_at > @now`,
  );
  const touch = db.prepare('UPDATE sessions SET last_used_at = ?, expires_at = ? WHERE id = ?');
  const end = db.prepare('UPDATE sessions SET ended_at = ? WHERE id = ? AND ended_at IS NULL');
  const purge = db.prepare('DELETE FROM sessions WHERE expires_at < ? OR ended_at < ?');
  const insertPassword = db.prepare(
    `INSERT INTO owner_passwords (owner_id, password_hash, token_id, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?)`,
  );
  const passwordByEmail = db.prepare<[string], { owner_id: string; password_hash: string; token_id: string }>(
    `SELECT p.owner_id, p.password_hash, p.token_id FROM owner_passwords p
     JOIN owners o ON o.id = p.owner_id WHERE o.email = ?`,
  );
  return (run) => ({
    create(record, secretHash) {
      return run(() => {
        insert.run({ ...record, secretHash });
      });
    },
    findActive(hash, now) {
      return run(() => {
        const row = byHash.get({ hash, now });
        return row && toSession(row);
      });
    },
    touch(id, at, expiresAt) {
      return run(() => {
        touch.run(at, expiresAt, id);
      });
    },
    end(id, at) {
      return run(() => end.run(at, id).changes > 0);
    },
    purge(before) {
      return run(() => purge.run(before, before).changes);
    },
    setPassword(ownerId, passwordHash, tokenId, at) {
      return run(() => {
        insertPassword.run(ownerId, passwordHash, tokenId, at, at);
      });
    },
    passwordForEmail(email) {
      return run(() => {
        const row = passwordByEmail.get(email);
        return row && { ownerId: row.owner_id, passwordHash: row.password_hash, tokenId: row.token_id };
      });
    },
  });
}
