import type { Sql } from '../../core/postgres/engine.js';
import type { InstallationKeyRecord, KeyRepository } from '../key-repository.js';

type KeyRow = {
  id: string;
  key_id: string;
  secret_hash: string;
  owner_id: string;
  label: string | null;
  created_at: number;
  created_by: string | null;
  expires_at: number;
  max_uses: number;
  uses: number;
  revoked_at: number | null;
};

const toKey = (r: KeyRow): InstallationKeyRecord => ({
  id: r.id,
  keyId: r.key_id,
  secretHash: r.secret_hash,
  ownerId: r.owner_id,
  label: r.label,
  createdAt: r.created_at,
  createdBy: r.created_by,
  expiresAt: r.expires_at,
  maxUses: r.max_uses,
  uses: r.uses,
  revokedAt: r.revoked_at,
});

export function postgresKeyRepository(sql: Sql): KeyRepository {
  return {
    create: async (record) => {
      await sql.run(
        `INSERT INTO installation_keys (id, key_id, secret_hash, owner_id, label, created_at, created_by, expires_at, max_uses, uses)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0)`,
        [
          record.id,
          record.keyId,
          record.secretHash,
          record.ownerId,
          record.label,
          record.createdAt,
          record.createdBy,
          record.expiresAt,
          record.maxUses,
        ],
      );
      return record;
    },
    findByKeyId: async (keyId) =>
      (
        await sql.rows<KeyRow>('SELECT * FROM installation_keys WHERE key_id = $1 ORDER BY created_at, id', [
          keyId,
        ])
      ).map(toKey),
    isKeyIdLive: async (keyId, now) =>
      (
        await sql.rows(
          `SELECT 1 FROM installation_keys
           WHERE key_id = $1 AND revoked_at IS NULL AND expires_at > $2 AND uses < max_uses LIMIT 1`,
          [keyId, now],
        )
      ).length > 0,
    get: async (id) => {
      const row = await sql.row<KeyRow>('SELECT * FROM installation_keys WHERE id = $1', [id]);
      return row && toKey(row);
    },
    list: async (ownerId, limit, offset) =>
      (
        await sql.rows<KeyRow>(
          `SELECT * FROM installation_keys WHERE ($1::text IS NULL OR owner_id = $1)
           ORDER BY created_at DESC, id LIMIT $2 OFFSET $3`,
          [ownerId, limit, offset],
        )
      ).map(toKey),
    revoke: async (id, at) =>
      (await sql.run('UPDATE installation_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [
        at,
        id,
      ])) === 1,
    // One statement: of two enrollments racing for the last use, exactly one gets it.
    consumeUse: async (id, now) =>
      (await sql.run(
        `UPDATE installation_keys SET uses = uses + 1
         WHERE id = $1 AND revoked_at IS NULL AND expires_at > $2 AND uses < max_uses`,
        [id, now],
      )) === 1,
  };
}
