import type { Role } from '../../../protocol/api.js';
import type { Sql } from '../../core/postgres/engine.js';
import type { ApiTokenRecord, TokenRepository } from '../token-repository.js';

type TokenRow = {
  id: string;
  role: Role;
  owner_id: string | null;
  label: string | null;
  created_at: number;
  created_by: string | null;
  revoked_at: number | null;
};

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

export function postgresTokenRepository(sql: Sql): TokenRepository {
  return {
    create: async (record, tokenHash) => {
      await sql.run(
        `INSERT INTO api_tokens (id, token_hash, role, owner_id, label, created_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [record.id, tokenHash, record.role, record.ownerId, record.label, record.createdAt, record.createdBy],
      );
      return { ...record, revokedAt: null };
    },
    findActiveByHash: async (tokenHash) => {
      const row = await sql.row<TokenRow>(
        `SELECT ${COLUMNS} FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL`,
        [tokenHash],
      );
      return row && toToken(row);
    },
    get: async (id) => {
      const row = await sql.row<TokenRow>(`SELECT ${COLUMNS} FROM api_tokens WHERE id = $1`, [id]);
      return row && toToken(row);
    },
    list: async () =>
      (await sql.rows<TokenRow>(`SELECT ${COLUMNS} FROM api_tokens ORDER BY created_at, id`)).map(toToken),
    revoke: async (id, at) =>
      (await sql.run('UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [
        at,
        id,
      ])) === 1,
    count: async () => (await sql.row<{ n: number }>('SELECT COUNT(*) AS n FROM api_tokens'))?.n ?? 0,
  };
}
