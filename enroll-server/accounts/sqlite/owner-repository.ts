import type { Db } from '../../core/sqlite/database.js';
import type { Run } from '../../core/sqlite/engine.js';
import type { Owner, OwnerRepository } from '../owner-repository.js';

interface OwnerRow {
  id: string;
  email: string;
  name: string;
  created_at: number;
}

const toOwner = (r: OwnerRow): Owner => ({ id: r.id, email: r.email, name: r.name, createdAt: r.created_at });

export function sqliteOwnerRepository(db: Db): (run: Run) => OwnerRepository {
  const insert = db.prepare('INSERT INTO owners (id, email, name, created_at) VALUES (?, ?, ?, ?)');
  const byId = db.prepare<[string], OwnerRow>('SELECT * FROM owners WHERE id = ?');
  const byEmail = db.prepare<[string], OwnerRow>('SELECT * FROM owners WHERE email = ?');
  const list = db.prepare<{ q: string; limit: number; offset: number }, OwnerRow>(
    `SELECT * FROM owners WHERE (@q = '' OR instr(lower(email), lower(@q)) > 0 OR instr(lower(name), lower(@q)) > 0)
     ORDER BY created_at, id LIMIT @limit OFFSET @offset`,
  );
  return (run) => ({
    create(owner) {
      return run(() => {
        insert.run(owner.id, owner.email, owner.name, owner.createdAt);
        return owner;
      });
    },
    get(id) {
      return run(() => {
        const row = byId.get(id);
        return row && toOwner(row);
      });
    },
    getByEmail(email) {
      return run(() => {
        const row = byEmail.get(email);
        return row && toOwner(row);
      });
    },
    list(q, limit, offset) {
      return run(() => list.all({ q, limit, offset }).map(toOwner));
    },
  });
}
