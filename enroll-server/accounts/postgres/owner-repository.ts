import type { Sql } from '../../core/postgres/engine.js';
import type { Owner, OwnerRepository } from '../owner-repository.js';

type OwnerRow = { id: string; email: string; name: string; created_at: number };

const toOwner = (r: OwnerRow): Owner => ({ id: r.id, email: r.email, name: r.name, createdAt: r.created_at });

// lower() in the "C" collation folds ASCII only, as SQLite's NOCASE and lower() do.
export function postgresOwnerRepository(sql: Sql): OwnerRepository {
  return {
    create: async (owner) => {
      await sql.run('INSERT INTO owners (id, email, name, created_at) VALUES ($1, $2, $3, $4)', [
        owner.id,
        owner.email,
        owner.name,
        owner.createdAt,
      ]);
      return owner;
    },
    get: async (id) => {
      const row = await sql.row<OwnerRow>('SELECT * FROM owners WHERE id = $1', [id]);
      return row && toOwner(row);
    },
    getByEmail: async (email) => {
      const row = await sql.row<OwnerRow>('SELECT * FROM owners WHERE lower(email) = lower($1)', [email]);
      return row && toOwner(row);
    },
    list: async (q, limit, offset) =>
      (
        await sql.rows<OwnerRow>(
          `SELECT * FROM owners
           WHERE ($1 = '' OR strpos(lower(email), lower($1)) > 0 OR strpos(lower(name), lower($1)) > 0)
           ORDER BY created_at, id LIMIT $2 OFFSET $3`,
          [q, limit, offset],
        )
      ).map(toOwner),
  };
}
