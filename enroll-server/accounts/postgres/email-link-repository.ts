import type { Sql } from '../../core/postgres/engine.js';
import type { EmailLinkPurpose, EmailLinkRecord, EmailLinkRepository } from '../email-link-repository.js';

type Row = {
  id: string;
  owner_id: string;
  purpose: EmailLinkPurpose;
  email: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
};

const toRecord = (r: Row): EmailLinkRecord => ({
  id: r.id,
  ownerId: r.owner_id,
  purpose: r.purpose,
  email: r.email,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  usedAt: r.used_at,
});

export function postgresEmailLinkRepository(sql: Sql): EmailLinkRepository {
  return {
    create: async (record, tokenHash) => {
      await sql.run(
        `INSERT INTO email_tokens (id, owner_id, purpose, token_hash, email, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [
          record.id,
          record.ownerId,
          record.purpose,
          tokenHash,
          record.email,
          record.createdAt,
          record.expiresAt,
        ],
      );
    },
    findByHash: async (tokenHash) => {
      const row = await sql.row<Row>(
        'SELECT id, owner_id, purpose, email, created_at, expires_at, used_at FROM email_tokens WHERE token_hash = $1',
        [tokenHash],
      );
      return row && toRecord(row);
    },
    // Compare-and-set: of two uses of one link at once, one wins.
    use: async (id, at) =>
      (await sql.run(
        'UPDATE email_tokens SET used_at = $1 WHERE id = $2 AND used_at IS NULL AND expires_at > $1',
        [at, id],
      )) === 1,
    voidOthers: (ownerId, purpose, exceptId, at) =>
      sql.run(
        `UPDATE email_tokens SET used_at = $1
         WHERE owner_id = $2 AND purpose = $3 AND id <> $4 AND used_at IS NULL`,
        [at, ownerId, purpose, exceptId],
      ),
    countSince: async (ownerId, purpose, since) =>
      (
        await sql.row<{ n: number }>(
          'SELECT COUNT(*) AS n FROM email_tokens WHERE owner_id = $1 AND purpose = $2 AND created_at >= $3',
          [ownerId, purpose, since],
        )
      )?.n ?? 0,
    verifiedAt: async (ownerId) =>
      (
        await sql.row<{ at: number | null }>('SELECT email_verified_at AS at FROM owners WHERE id = $1', [
          ownerId,
        ])
      )?.at ?? null,
    markVerified: async (ownerId, at) =>
      (await sql.run('UPDATE owners SET email_verified_at = $1 WHERE id = $2 AND email_verified_at IS NULL', [
        at,
        ownerId,
      ])) === 1,
  };
}
