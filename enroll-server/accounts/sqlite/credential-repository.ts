import type { Db } from '../../core/sqlite/database.js';
import type { Run } from '../../core/sqlite/engine.js';
import type { CredentialRepository } from '../credential-repository.js';

export function sqliteCredentialRepository(db: Db): (run: Run) => CredentialRepository {
  const forOwner = db.prepare<[string], { owner_id: string; token_id: string; usable: number }>(
    'SELECT owner_id, token_id, usable FROM owner_passwords WHERE owner_id = ?',
  );
  const createUnusable = db.prepare(
    `INSERT INTO owner_passwords (owner_id, password_hash, token_id, created_at, updated_at, usable)
     VALUES (?, ?, ?, ?, ?, 0)`,
  );
  const replace = db.prepare(
    'UPDATE owner_passwords SET password_hash = ?, usable = 1, updated_at = ? WHERE owner_id = ?',
  );
  const endSessions = db.prepare(
    `UPDATE sessions SET ended_at = @at
     WHERE token_id = @tokenId AND ended_at IS NULL AND (@except IS NULL OR id <> @except)`,
  );
  return (run) => ({
    forOwner: (ownerId) =>
      run(() => {
        const row = forOwner.get(ownerId);
        return row && { ownerId: row.owner_id, tokenId: row.token_id, passwordUsable: row.usable === 1 };
      }),
    createUnusable: (ownerId, passwordHash, tokenId, at) =>
      run(() => {
        createUnusable.run(ownerId, passwordHash, tokenId, at, at);
      }),
    replacePassword: (ownerId, passwordHash, at) =>
      run(() => replace.run(passwordHash, at, ownerId).changes === 1),
    endSessions: (tokenId, at, exceptSessionId) =>
      run(() => endSessions.run({ tokenId, at, except: exceptSessionId }).changes),
  });
}
