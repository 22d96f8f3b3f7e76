import type { Sql } from '../../core/postgres/engine.js';
import type { SessionMethod, SessionRecord, SessionRepository } from '../session-repository.js';

type SessionRow = {
  id: string;
  token_id: string;
  csrf_token: string;
  method: SessionMethod;
  created_at: number;
  last_used_at: number;
  expires_at: number;
  ended_at: number | null;
};

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

export function postgresSessionRepository(sql: Sql): SessionRepository {
  return {
    create: async (record, secretHash) => {
      await sql.run(
        `INSERT INTO sessions (id, secret_hash, token_id, csrf_token, method, created_at, last_used_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6, $7)`,
        [
          record.id,
          secretHash,
          record.tokenId,
          record.csrfToken,
          record.method,
          record.createdAt,
          record.expiresAt,
        ],
      );
    },
    findActive: async (hash, now) => {
      const row = await sql.row<SessionRow>(
        `SELECT id, token_id, csrf_token, method, created_at, last_used_at, expires_at, ended_at FROM sessions
         WHERE secret_hash = $1 AND ended_at IS NULL AND expires_at > $2`,
        [hash, now],
      );
      return row && toSession(row);
    },
    touch: async (id, at, expiresAt) => {
      await sql.run('UPDATE sessions SET last_used_at = $1, expires_at = $2 WHERE id = $3', [
        at,
        expiresAt,
        id,
      ]);
    },
    end: async (id, at) =>
      (await sql.run('UPDATE sessions SET ended_at = $1 WHERE id = $2 AND ended_at IS NULL', [at, id])) > 0,
    purge: (before) => sql.run('DELETE FROM sessions WHERE expires_at < $1 OR ended_at < $1', [before]),
    setPassword: async (ownerId, passwordHash, tokenId, at) => {
      await sql.run(
        `INSERT INTO owner_passwords (owner_id, password_hash, token_id, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $4)`,
        [ownerId, passwordHash, tokenId, at],
      );
    },
    replacePasswordHash: async (ownerId, before, after, at) =>
      (await sql.run(
        'UPDATE owner_passwords SET password_hash = $1, updated_at = $2 WHERE owner_id = $3 AND password_hash = $4',
        [after, at, ownerId, before],
      )) === 1,
    passwordForEmail: async (email) => {
      const row = await sql.row<{ owner_id: string; password_hash: string; token_id: string }>(
        `SELECT p.owner_id, p.password_hash, p.token_id FROM owner_passwords p
         JOIN owners o ON o.id = p.owner_id WHERE lower(o.email) = lower($1)`,
        [email],
      );
      return row && { ownerId: row.owner_id, passwordHash: row.password_hash, tokenId: row.token_id };
    },
  };
}
