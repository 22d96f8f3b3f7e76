import type { Sql } from '../../core/postgres/engine.js';
import type { ArtifactRecord, ArtifactRepository } from '../artifact-repository.js';

type Row = {
  name: string;
  version: string;
  sha256: string;
  size: number;
  signature: string;
  uploaded_by: string | null;
  created_at: number;
};

const COLUMNS = 'name, version, sha256, size, signature, uploaded_by, created_at';

const toRecord = (r: Row): ArtifactRecord => ({
  name: r.name,
  version: r.version,
  sha256: r.sha256,
  size: r.size,
  signature: r.signature,
  uploadedBy: r.uploaded_by,
  createdAt: r.created_at,
});

export function postgresArtifactRepository(sql: Sql): ArtifactRepository {
  // seq breaks ties between uploads in the same millisecond: the later one is newer.
  const byName = (name: string, limit: number) =>
    sql.rows<Row>(
      `SELECT ${COLUMNS} FROM artifacts WHERE name = $1 ORDER BY created_at DESC, seq DESC LIMIT $2`,
      [name, limit],
    );
  return {
    insert: async (a) =>
      (await sql.run(
        `INSERT INTO artifacts (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (name, version) DO NOTHING`,
        [a.name, a.version, a.sha256, a.size, a.signature, a.uploadedBy, a.createdAt],
      )) === 1,
    get: async (name, version) => {
      const row = await sql.row<Row>(`SELECT ${COLUMNS} FROM artifacts WHERE name = $1 AND version = $2`, [
        name,
        version,
      ]);
      return row ? toRecord(row) : undefined;
    },
    list: async ({ name, limit }) =>
      (name === undefined
        ? await sql.rows<Row>(
            `SELECT ${COLUMNS} FROM artifacts ORDER BY created_at DESC, seq DESC LIMIT $1`,
            [limit],
          )
        : await byName(name, limit)
      ).map(toRecord),
    newest: async (name) => {
      const [row] = await byName(name, 1);
      return row ? toRecord(row) : undefined;
    },
    countBySha256: async (sha256) =>
      (
        await sql.row<{ n: number }>('SELECT COUNT(*)::integer AS n FROM artifacts WHERE sha256 = $1', [
          sha256,
        ])
      )?.n ?? 0,
  };
}
