import type { Sql } from '../../core/postgres/engine.js';
import type { IdentityRepository, OwnerIdentity } from '../identity-repository.js';

type Row = {
  provider: string;
  subject: string;
  owner_id: string;
  email: string | null;
  created_at: number;
  last_used_at: number;
};

const toIdentity = (r: Row): OwnerIdentity => ({
  provider: r.provider,
  subject: r.subject,
  ownerId: r.owner_id,
  email: r.email,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
});

export function postgresIdentityRepository(sql: Sql): IdentityRepository {
  return {
    find: async (provider, subject) => {
      const row = await sql.row<Row>('SELECT * FROM owner_identities WHERE provider = $1 AND subject = $2', [
        provider,
        subject,
      ]);
      return row && toIdentity(row);
    },
    link: async (identity) => {
      await sql.run(
        `INSERT INTO owner_identities (provider, subject, owner_id, email, created_at, last_used_at)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [
          identity.provider,
          identity.subject,
          identity.ownerId,
          identity.email,
          identity.createdAt,
          identity.lastUsedAt,
        ],
      );
    },
    touch: async (provider, subject, at) => {
      await sql.run('UPDATE owner_identities SET last_used_at = $1 WHERE provider = $2 AND subject = $3', [
        at,
        provider,
        subject,
      ]);
    },
    forOwner: async (ownerId) =>
      (
        await sql.rows<Row>(
          'SELECT * FROM owner_identities WHERE owner_id = $1 ORDER BY created_at, provider',
          [ownerId],
        )
      ).map(toIdentity),
  };
}
