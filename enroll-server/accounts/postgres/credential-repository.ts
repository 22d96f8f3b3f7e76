import type { Sql } from '../../core/postgres/engine.js';
import type { CredentialRepository } from '../credential-repository.js';

export function postgresCredentialRepository(sql: Sql): CredentialRepository {
  return {
    forOwner: async (ownerId) => {
      const row = await sql.row<{ owner_id: string; token_id: string; usable: boolean }>(
        'SELECT owner_id, token_id, usable FROM owner_passwords WHERE owner_id = $1',
        [ownerId],
      );
      return row && { ownerId: row.owner_id, tokenId: row.token_id, passwordUsable: row.usable };
    },
    createUnusable: async (ownerId, passwordHash, tokenId, at) => {
      await sql.run(
        `INSERT INTO owner_passwords (owner_id, password_hash, token_id, created_at, updated_at, usable)
         VALUES ($1, $2, $3, $4, $4, false)`,
        [ownerId, passwordHash, tokenId, at],
      );
    },
    replacePassword: async (ownerId, passwordHash, at) =>
      (await sql.run(
        'UPDATE owner_passwords SET password_hash = $1, usable = true, updated_at = $2 WHERE owner_id = $3',
        [passwordHash, at, ownerId],
      )) === 1,
    endSessions: (tokenId, at, exceptSessionId) =>
      sql.run(
        `UPDATE sessions SET ended_at = $1
         WHERE token_id = $2 AND ended_at IS NULL AND ($3::text IS NULL OR id <> $3::text)`,
        [at, tokenId, exceptSessionId ?? null],
      ),
  };
}
