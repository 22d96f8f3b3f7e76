import type { Db } from '../../core/sqlite/database.js';
import type { Run } from '../../core/sqlite/engine.js';
import type { EmailLinkPurpose, EmailLinkRecord, EmailLinkRepository } from '../email-link-repository.js';

interface Row {
  id: string;
  owner_id: string;
  purpose: EmailLinkPurpose;
  email: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

const toRecord = (r: Row): EmailLinkRecord => ({
  id: r.id,
  ownerId: r.owner_id,
  purpose: r.purpose,
  email: r.email,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  usedAt: r.used_at,
});

export function sqliteEmailLinkRepository(db: Db): (run: Run) => EmailLinkRepository {
  const insert = db.prepare(
    `INSERT INTO email_tokens (id, owner_id, purpose, token_hash, email, created_at, expires_at)
     VALUES (@id, @ownerId, @purpose, @tokenHash, @email, @createdAt, @expiresAt)`,
  );
  const byHash = db.prepare<[string], Row>(
    'SELECT id, owner_id, purpose, email, created_at, expires_at, used_at FROM email_tokens WHERE token_hash = ?',
  );
  const use = db.prepare(
    'UPDATE email_tokens SET used_at = @at WHERE id = @id AND used_at IS NULL AND expires_at > @at',
  );
  const voidOthers = db.prepare(
    `UPDATE email_tokens SET used_at = @at
     WHERE owner_id = @ownerId AND purpose = @purpose AND id <> @exceptId AND used_at IS NULL`,
  );
  const countSince = db.prepare<[string, string, number], { n: number }>(
    'SELECT COUNT(*) AS n FROM email_tokens WHERE owner_id = ? AND purpose = ? AND created_at >= ?',
  );
  const verifiedAt = db.prepare<[string], { at: number | null }>(
    'SELECT email_verified_at AS at FROM owners WHERE id = ?',
  );
  const markVerified = db.prepare(
    'UPDATE owners SET email_verified_at = ? WHERE id = ? AND email_verified_at IS NULL',
  );
  return (run) => ({
    create: (record, tokenHash) =>
      run(() => {
        insert.run({ ...record, tokenHash });
      }),
    findByHash: (tokenHash) =>
      run(() => {
        const row = byHash.get(tokenHash);
        return row && toRecord(row);
      }),
    use: (id, at) => run(() => use.run({ id, at }).changes === 1),
    voidOthers: (ownerId, purpose, exceptId, at) =>
      run(() => voidOthers.run({ ownerId, purpose, exceptId, at }).changes),
    countSince: (ownerId, purpose, since) => run(() => countSince.get(ownerId, purpose, since)?.n ?? 0),
    verifiedAt: (ownerId) => run(() => verifiedAt.get(ownerId)?.at ?? null),
    markVerified: (ownerId, at) => run(() => markVerified.run(at, ownerId).changes === 1),
  });
}
