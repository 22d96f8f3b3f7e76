import type { Db } from '../../core/sqlite/database.js';
import type { Run } from '../../core/sqlite/engine.js';
import type { ArtifactRecord, ArtifactRepository } from '../artifact-repository.js';

interface Row {
  name: string;
  version: string;
  sha256: string;
  size: number;
  signature: string;
  uploaded_by: string | null;
  created_at: number;
}

const toRecord = (r: Row): ArtifactRecord => ({
  name: r.name,
  version: r.version,
  sha256: r.sha256,
  size: r.size,
  signature: r.signature,
  uploadedBy: r.uploaded_by,
  createdAt: r.created_at,
});

export function sqliteArtifactRepository(db: Db): (run: Run) => ArtifactRepository {
  const insert = db.prepare(
    `INSERT INTO artifacts (name, version, sha256, size, signature, uploaded_by, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name, version) DO NOTHING`,
  );
  const get = db.prepare<[string, string], Row>('SELECT * FROM artifacts WHERE name = ? AND version = ?');
  // rowid breaks ties between uploads in the same millisecond: the later one is newer.
  const listAll = db.prepare<[number], Row>(
    'SELECT * FROM artifacts ORDER BY created_at DESC, rowid DESC LIMIT ?',
  );
  const listName = db.prepare<[string, number], Row>(
    'SELECT * FROM artifacts WHERE name = ? ORDER BY created_at DESC, rowid DESC LIMIT ?',
  );
  const count = db.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM artifacts WHERE sha256 = ?');
  return (run) => ({
    insert(a) {
      return run(
        () =>
          insert.run(a.name, a.version, a.sha256, a.size, a.signature, a.uploadedBy, a.createdAt).changes ===
          1,
      );
    },
    get(name, version) {
      return run(() => {
        const row = get.get(name, version);
        return row ? toRecord(row) : undefined;
      });
    },
    list({ name, limit }) {
      return run(() => (name === undefined ? listAll.all(limit) : listName.all(name, limit)).map(toRecord));
    },
    newest(name) {
      return run(() => {
        const row = listName.get(name, 1);
        return row ? toRecord(row) : undefined;
      });
    },
    countBySha256(sha256) {
      return run(() => count.get(sha256)?.n ?? 0);
    },
  });
}
