import type { Db } from '../../core/sqlite/database.js';
import type { Run } from '../../core/sqlite/engine.js';
import type { InstallationKeyRecord, KeyRepository } from '../key-repository.js';

interface KeyRow {
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
}

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

export function sqliteKeyRepository(db: Db): (run: Run) => KeyRepository {
  const insert = db.prepare(
    `INSERT INTO installation_keys (id, key_id, secret_hash, owner_id, label, created_at, created_by, expires_at, max_uses, uses)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0)`,
  );
  const byKeyId = db.prepare<[string], KeyRow>('SELECT * FROM installation_keys WHERE key_id = ?');
  const liveKeyId = db.prepare<[string, number], { n: number }>(
    `SELECT COUNT(*) AS n FROM installation_keys
     WHERE key_id = ? AND revoked_at IS NULL AND expires_at > ? AND uses < max_uses`,
  );
  const byId = db.prepare<[string], KeyRow>('SELECT * FROM installation_keys WHERE id = ?');
  const listAll = db.prepare<{ ownerId: string | null; limit: number; offset: number }, KeyRow>(
    `SELECT * FROM installation_keys WHERE (@ownerId IS NULL OR owner_id = @ownerId)
     ORDER BY created_at DESC, id LIMIT @limit OFFSET @offset`,
  );
  const revoke = db.prepare(
    'UPDATE installation_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL',
  );
  const consume = db.prepare(
    `UPDATE installation_keys SET uses = uses + 1
     WHERE id = ? AND revoked_at IS NULL AND expires_at > ? AND uses < max_uses`,
  );
  return (run) => ({
    create(record) {
      return run(() => {
        insert.run(
          record.id,
          record.keyId,
          record.secretHash,
          record.ownerId,
          record.label,
          record.createdAt,
          record.createdBy,
          record.expiresAt,
          record.maxUses,
        );
        return record;
      });
    },
    findByKeyId(keyId) {
      return run(() => byKeyId.all(keyId).map(toKey));
    },
    isKeyIdLive(keyId, now) {
      return run(() => (liveKeyId.get(keyId, now)?.n ?? 0) > 0);
    },
    get(id) {
      return run(() => {
        const row = byId.get(id);
        return row && toKey(row);
      });
    },
    list(ownerId, limit, offset) {
      return run(() => listAll.all({ ownerId, limit, offset }).map(toKey));
    },
    revoke(id, at) {
      return run(() => revoke.run(at, id).changes === 1);
    },
    consumeUse(id, now) {
      return run(() => consume.run(id, now).changes === 1);
    },
  });
}
