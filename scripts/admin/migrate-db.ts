/**
 * `npm run admin -- migrate-db --from FILE --to postgres://…`: copy a (stopped) server's SQLite
 * database into an empty PostgreSQL database, then check the copy.
 *
 * 1. The SQLite file is copied to a temporary file and brought to the current schema there (the
 *    original is only read), after checking that no server is running on it (its replica
 *    heartbeat) and that it is intact.
 * 2. PostgreSQL gets its own migrations; it must hold no data yet.
 * 3. Every table is copied in one transaction, parents before children (foreign keys), column by
 *    column as PostgreSQL names them; identity sequences continue after the copied ids.
 * 4. Every copied table is vacuumed and analysed (statistics for the planner).
 * 5. Checked: per table the row count and a SHA-256 over every row in primary-key order, read
 *    back from both; and every locked payout period is recomputed on PostgreSQL and must give
 *    the hash it was locked with.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type pg from 'pg';
import { DEFAULT_REPLICA_CONFIG } from '../../enroll-server/core/config.js';
import { createPool, migratePostgres, redactUrl } from '../../enroll-server/core/postgres/database.js';
import { openDatabase } from '../../enroll-server/core/sqlite/database.js';
import { createPayoutService } from '../../enroll-server/payouts/payout-service.js';
import { createPostgresRepositories } from '../../enroll-server/postgres-store.js';

export interface TableCheck {
  table: string;
  rows: number;
  sha256: string;
}

export interface MigrateResult {
  from: string;
  to: string;
  tables: TableCheck[];
  lockedPeriods: { id: string; hash: string; matches: boolean }[];
}

type Value = string | number | bigint | boolean | Buffer | null;
type Row = Record<string, Value>;

/** Postgres names of columns per table, with whether each is boolean. */
interface PgColumns {
  names: string[];
  booleans: Set<string>;
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** The one text form a value takes in the checksum, whichever engine it was read from. */
function canonical(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return value.toString();
  return JSON.stringify(value);
}

/** Row count and SHA-256 over rows fed one at a time. */
function rowHasher() {
  const hash = createHash('sha256');
  let n = 0;
  return {
    add(row: readonly unknown[]) {
      hash.update(JSON.stringify(row.map(canonical)));
      hash.update('\n');
      n += 1;
    },
    result: (): { rows: number; sha256: string } => ({ rows: n, sha256: hash.digest('hex') }),
  };
}

function checksum(rows: Iterable<readonly unknown[]>): { rows: number; sha256: string } {
  const hasher = rowHasher();
  for (const row of rows) hasher.add(row);
  return hasher.result();
}

function refuseRunningServer(db: Database.Database, file: string, now: number): void {
  const hasReplicas = db
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'replicas'")
    .get();
  if (!hasReplicas) return;
  const live = db
    .prepare<[number], { heartbeat_at: number }>(
      'SELECT heartbeat_at FROM replicas WHERE stopped_at IS NULL AND heartbeat_at > ? ORDER BY heartbeat_at DESC',
    )
    .get(now - DEFAULT_REPLICA_CONFIG.lapseMs);
  if (live)
    throw new Error(
      `A server is running on ${file} (its last heartbeat was ${Math.round((now - live.heartbeat_at) / 1000)} s ago). Stop it, then run migrate-db again.`,
    );
}

/** Tables in an order where every table comes after those its foreign keys point at. */
async function tablesInOrder(client: pg.ClientBase): Promise<string[]> {
  const { rows: tables } = await client.query<{ name: string }>(
    "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> 'schema_migrations'",
  );
  const { rows: edges } = await client.query<{ child: string; parent: string }>(
    `SELECT c.conrelid::regclass::text AS child, c.confrelid::regclass::text AS parent
     FROM pg_constraint c WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace`,
  );
  const names = tables.map((t) => t.name).sort();
  const parents = new Map(names.map((n) => [n, new Set<string>()]));
  for (const e of edges)
    if (e.child !== e.parent) parents.get(e.child.replace(/"/g, ''))?.add(e.parent.replace(/"/g, ''));
  const ordered: string[] = [];
  const visit = (name: string, path: Set<string>) => {
    if (ordered.includes(name) || path.has(name)) return;
    path.add(name);
    for (const parent of [...(parents.get(name) ?? [])].sort()) visit(parent, path);
    ordered.push(name);
  };
  for (const name of names) visit(name, new Set());
  return ordered;
}

async function pgColumns(client: pg.ClientBase, table: string): Promise<PgColumns> {
  const { rows } = await client.query<{ column_name: string; data_type: string }>(
    `SELECT column_name, data_type FROM information_schema.columns
     WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`,
    [table],
  );
  return {
    names: rows.map((r) => r.column_name),
    booleans: new Set(rows.filter((r) => r.data_type === 'boolean').map((r) => r.column_name)),
  };
}

async function primaryKey(client: pg.ClientBase, table: string): Promise<string[]> {
  const { rows } = await client.query<{ column: string }>(
    `SELECT a.attname AS column FROM pg_index i
     JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
     WHERE i.indrelid = $1::regclass AND i.indisprimary ORDER BY array_position(i.indkey, a.attnum)`,
    [table],
  );
  return rows.map((r) => r.column);
}

async function copyTable(
  source: Database.Database,
  client: pg.ClientBase,
  table: string,
  columns: PgColumns,
): Promise<void> {
  const sqliteColumns = new Set(
    source
      .prepare<[], { name: string }>(`SELECT name FROM pragma_table_info('${table}')`)
      .all()
      .map((c) => c.name),
  );
  const missing = [...sqliteColumns].filter((c) => !columns.names.includes(c));
  if (missing.length)
    throw new Error(
      `SQLite's ${table} has columns PostgreSQL's has not (${missing.join(', ')}): this server's PostgreSQL migrations are behind its SQLite ones.`,
    );
  const names = columns.names.filter((c) => sqliteColumns.has(c));
  const perStatement = Math.max(1, Math.floor(30_000 / names.length));
  const insert = (count: number) =>
    `INSERT INTO ${quote(table)} (${names.map(quote).join(', ')}) VALUES ${Array.from(
      { length: count },
      (_, r) => `(${names.map((_, c) => `$${r * names.length + c + 1}`).join(', ')})`,
    ).join(', ')}`;
  const statement = source.prepare<[], Row>(`SELECT ${names.map(quote).join(', ')} FROM ${quote(table)}`);
  let batch: Value[] = [];
  let inBatch = 0;
  const flush = async () => {
    if (inBatch === 0) return;
    await client.query(insert(inBatch), batch);
    batch = [];
    inBatch = 0;
  };
  for (const row of statement.iterate()) {
    for (const name of names) {
      const value = row[name] ?? null;
      batch.push(
        columns.booleans.has(name) && value !== null ? value === 1 || value === '1' || value === true : value,
      );
    }
    inBatch += 1;
    if (inBatch === perStatement) await flush();
  }
  await flush();
}

/** Identity columns continue after the highest copied value. */
async function advanceSequences(client: pg.ClientBase, table: string): Promise<void> {
  const { rows } = await client.query<{ column_name: string }>(
    `SELECT column_name FROM information_schema.columns
     WHERE table_schema = current_schema() AND table_name = $1 AND is_identity = 'YES'`,
    [table],
  );
  for (const { column_name: column } of rows) {
    await client.query(
      `SELECT setval(pg_get_serial_sequence($1, $2), m) FROM (SELECT MAX(${quote(column)}) AS m FROM ${quote(table)}) t WHERE m IS NOT NULL`,
      [table, column],
    );
  }
}

async function compare(
  source: Database.Database,
  client: pg.ClientBase,
  table: string,
  columns: PgColumns,
  names: string[],
  key: string[],
): Promise<TableCheck> {
  const order = key.map(quote).join(', ');
  // Bytewise on both sides: a SQLite NOCASE column (mail_suppressions.address) would otherwise
  // sort 'a' before 'B', where PostgreSQL's "C" collation puts 'B' first.
  const sqliteOrder = key.map((k) => `${quote(k)} COLLATE BINARY`).join(', ');
  const list = names.map(quote).join(', ');
  const fromSqlite = checksum(
    source
      .prepare(`SELECT ${list} FROM ${quote(table)} ORDER BY ${sqliteOrder}`)
      .raw()
      .iterate() as Iterable<unknown[]>,
  );
  // Read back in PostgreSQL's own text forms (bigint as text), so nothing is rounded on the way,
  // through a cursor of this transaction, so that millions of usage reports are never in memory
  // at once.
  const booleans = names.map((n) => columns.booleans.has(n));
  const hasher = rowHasher();
  await client.query(
    `DECLARE migrate_check NO SCROLL CURSOR FOR SELECT ${list} FROM ${quote(table)} ORDER BY ${order}`,
  );
  for (;;) {
    const { rows } = await client.query<unknown[]>({
      text: 'FETCH 20000 FROM migrate_check',
      rowMode: 'array',
      types: { getTypeParser: () => (text: string) => text },
    });
    for (const row of rows)
      hasher.add(row.map((v, c) => (booleans[c] && v !== null ? (v === 't' ? 1 : 0) : v)));
    if (rows.length < 20000) break;
  }
  await client.query('CLOSE migrate_check');
  const fromPostgres = hasher.result();
  if (fromSqlite.rows !== fromPostgres.rows || fromSqlite.sha256 !== fromPostgres.sha256)
    throw new Error(
      `The copy of ${table} differs: SQLite has ${fromSqlite.rows} rows (${fromSqlite.sha256.slice(0, 12)}…), PostgreSQL ${fromPostgres.rows} (${fromPostgres.sha256.slice(0, 12)}…). Nothing was committed.`,
    );
  return { table, ...fromPostgres };
}

async function holdsData(client: pg.ClientBase, tables: readonly string[]): Promise<string[]> {
  const full: string[] = [];
  for (const table of tables) {
    const { rows } = await client.query(`SELECT 1 FROM ${quote(table)} LIMIT 1`);
    if (rows.length) full.push(table);
  }
  return full;
}

export async function migrateDatabase(
  from: string,
  to: string,
  options: { now?: () => number } = {},
): Promise<MigrateResult> {
  const now = options.now ?? Date.now;
  if (!existsSync(from)) throw new Error(`The SQLite database ${from} does not exist.`);
  if (!/^postgres(ql)?:\/\//.test(to))
    throw new Error(
      '--to must be a PostgreSQL URL such as postgres://homenode:secret@db.internal:5432/homenode',
    );
  const original = new Database(from, { readonly: true, fileMustExist: true });
  try {
    const integrity = original.pragma('integrity_check', { simple: true });
    if (integrity !== 'ok') throw new Error(`The SQLite database ${from} is damaged: ${String(integrity)}.`);
    refuseRunningServer(original, from, now());
  } finally {
    original.close();
  }
  // Brought to the current schema on a copy: the original stays as it was.
  const dir = mkdtempSync(join(tmpdir(), 'homenode-migrate-'));
  const copy = join(dir, 'source.db');
  for (const suffix of ['', '-wal'])
    if (existsSync(from + suffix)) copyFileSync(from + suffix, copy + suffix);
  const source = openDatabase(copy);
  const pool = createPool(to, { max: 2 });
  try {
    await migratePostgres(pool);
    const client = await pool.connect();
    try {
      const tables = await tablesInOrder(client);
      const sqliteTables = new Set(
        source
          .prepare<[], { name: string }>(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
          )
          .all()
          .map((t) => t.name),
      );
      const unknown = [...sqliteTables].filter((t) => !tables.includes(t));
      if (unknown.length)
        throw new Error(
          `SQLite has tables PostgreSQL has not (${unknown.join(', ')}): this server's PostgreSQL migrations are behind its SQLite ones.`,
        );
      const full = await holdsData(client, tables);
      if (full.length)
        throw new Error(
          `The PostgreSQL database ${redactUrl(to)} already holds data (${full.join(', ')}). Migrate into an empty database.`,
        );
      const copied = tables.filter((t) => sqliteTables.has(t));
      const checks: TableCheck[] = [];
      await client.query('BEGIN');
      try {
        for (const table of copied) {
          const columns = await pgColumns(client, table);
          await copyTable(source, client, table, columns);
          await advanceSequences(client, table);
        }
        for (const table of copied) {
          const columns = await pgColumns(client, table);
          const names = source
            .prepare<[], { name: string }>(`SELECT name FROM pragma_table_info('${table}')`)
            .all()
            .map((c) => c.name)
            .filter((c) => columns.names.includes(c));
          const key = await primaryKey(client, table);
          checks.push(await compare(source, client, table, columns, names, key.length ? key : names));
        }
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      }
      // Statistics and the visibility map for what was just written, as after any bulk load:
      // without them the planner guesses and index-only scans still visit the heap.
      for (const table of copied) await client.query(`VACUUM (ANALYZE) ${quote(table)}`);
      const lockedPeriods = await verifyLockedPeriods(pool, now);
      return { from, to: redactUrl(to), tables: checks, lockedPeriods };
    } finally {
      client.release();
    }
  } finally {
    await pool.end();
    source.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every locked period's statement, recomputed on PostgreSQL from the copied data, has its hash. */
async function verifyLockedPeriods(
  pool: ReturnType<typeof createPool>,
  now: () => number,
): Promise<MigrateResult['lockedPeriods']> {
  const repos = createPostgresRepositories(pool);
  const payouts = createPayoutService({ repos, now, flushPresence: async () => {} });
  const out: MigrateResult['lockedPeriods'] = [];
  for (const period of await repos.payouts.periods()) {
    if (period.status !== 'locked') continue;
    const result = await payouts.verify(period.id);
    out.push({ id: period.id, hash: result.hash, matches: result.matches });
    if (!result.matches)
      throw new Error(
        `Locked period ${period.id} recomputes to ${result.recomputedHash} on PostgreSQL, not ${result.hash}. The copy is kept for inspection; do not switch servers to it.`,
      );
  }
  return out;
}
