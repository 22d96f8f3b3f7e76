import type { Role } from '../../../protocol/api.js';
import type { Db } from '../../core/sqlite/database.js';
import type { Run } from '../../core/sqlite/engine.js';
import type { ApiTokenRecord, TokenRepository } from '../token-repository.js';

interface TokenRow {
  id: string;
  role: Role;
  owner_id: string | null;
  label: string | null;
  created_at: number;
  created_by: string | null;
  revoked_at: number | null;
}

const toToken = (r: TokenRow): ApiTokenRecord => ({
  id: r.id,
  role: r.role,
  ownerId: r.owner_id,
  label: r.label,
  createdAt: r.created_at,
  createdBy: r.created_by,
  revokedAt: r.revoked_at,
});

const COLUMNS = 'id, role, owner_id, label, created_at, created_by, revoked_at';

export function sqliteTokenRepository(db: Db): (run: Run) => TokenRepository {
  const insert = db.prepare(
    `INSERT INTO api_tokens (id, token_hash, role, owner_id, label, created_at, created_by)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  const byHash = db.prepare<[string], TokenRow>(
    `SELECT ${COLUMNS} FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL`,
  );
  const byId = db.prepare<[string], TokenRow>(`SELECT ${COLUMNS} FROM api_tokens WHERE id = ?`);
  const list = db.prepare<[], TokenRow>(`SELECT ${COLUMNS} FROM api_tokens ORDER BY created_at, id`);
  const revoke = db.prepare('UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL');
  const count = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM api_tokens');
  return (run) => ({
    create(record, tokenHash) {
      return run(() => {
        insert.run(
          record.id,
          tokenHash,
          record.role,
          record.ownerId,
          record.label,
          record.createdAt,
          record.createdBy,
        );
        return { ...record, revokedAt: null };
      });
    },
    findActiveByHash(tokenHash) {
      return run(() => {
        const row = byHash.get(tokenHash);
        return row && toToken(row);
      });
    },
    get(id) {
      return run(() => {
        const row = byId.get(id);
        return row && toToken(row);
      });
    },
    list() {
      return run(() => list.all().map(toToken));
    },
    revoke(id, at) {
      return run(() => revoke.run(at, id).changes === 1);
    },
    count() {
      return run(() => count.get()?.n ?? 0);
    },
  });
}
