import type { Db } from '../../core/sqlite/database.js';
import type { Run } from '../../core/sqlite/engine.js';
import type { IdentityRepository, OwnerIdentity } from '../identity-repository.js';

interface Row {
  provider: string;
  subject: string;
  owner_id: string;
  email: string | null;
  created_at: number;
  last_used_at: number;
}

const toIdentity = (r: Row): OwnerIdentity => ({
  provider: r.provider,
  subject: r.subject,
  ownerId: r.owner_id,
  email: r.email,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
});

export function sqliteIdentityRepository(db: Db): (run: Run) => IdentityRepository {
  const find = db.prepare<[string, string], Row>(
    'SELECT * FROM owner_identities WHERE provider = ? AND subject = ?',
  );
  const insert = db.prepare(
    `INSERT INTO owner_identities (provider, subject, owner_id, email, created_at, last_used_at)
     VALUES (@provider, @subject, @ownerId, @email, @createdAt, @lastUsedAt)`,
  );
  const touch = db.prepare('UPDATE owner_identities SET last_used_at = ? WHERE provider = ? AND subject = ?');
  const forOwner = db.prepare<[string], Row>(
    'SELECT * FROM owner_identities WHERE owner_id = ? ORDER BY created_at, provider',
  );
  return (run) => ({
    find: (provider, subject) =>
      run(() => {
        const row = find.get(provider, subject);
        return row && toIdentity(row);
      }),
    link: (identity) =>
      run(() => {
        insert.run(identity);
      }),
    touch: (provider, subject, at) =>
      run(() => {
        touch.run(at, provider, subject);
      }),
    forOwner: (ownerId) => run(() => forOwner.all(ownerId).map(toIdentity)),
  });
}
