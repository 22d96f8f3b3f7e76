/**
 * The PostgreSQL database: a connection pool whose numbers come back as SQLite's do, and the
 * numbered migrations of `migrations/`, tracked in `schema_migrations`. Replicas starting together
 * migrate one at a time: the run holds an advisory lock, and each migration is one transaction.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { type Migration, loadMigrations as loadMigrationFiles } from '../migration-files.js';

export type Pool = pg.Pool;

const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'migrations');

/** Any constant would do; this one spells "homenode" so that it is recognisable in pg_locks. */
export const MIGRATION_LOCK_KEY = 0x686f6d656e6f6465n;

export function loadPostgresMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return loadMigrationFiles(dir);
}

const INT8 = 20;

/**
 * bigint columns hold times (ms), counts and ids, all far below 2^53: they come back as numbers,
 * as from SQLite. Money is read as text in the queries themselves, so it never passes through here.
 */
function parseInt8(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value))
    throw new RangeError(`A bigint value ${text} is beyond what a JavaScript number holds exactly.`);
  return value;
}

/** This pool's own parsers (the process-wide defaults of `pg` stay untouched). */
const types = new pg.TypeOverrides();
types.setTypeParser(INT8, 'text', parseInt8);

export interface PoolOptions {
  /** Connections this process keeps at most (default 10). */
  max?: number;
  /** Shown in pg_stat_activity, e.g. the replica id. */
  applicationName?: string;
  /** An idle connection broke (e.g. the database restarted); the pool replaces it on next use. */
  onError?: (error: Error) => void;
}

export class DatabaseUrlError extends Error {
  constructor(url: string, problem: string) {
    super(`HOMENODE_DATABASE_URL=${JSON.stringify(redactUrl(url))}: ${problem}`);
    this.name = 'DatabaseUrlError';
  }
}

/** The URL with its password replaced, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(not a URL)';
  }
}

export function createPool(url: string, options: PoolOptions = {}): Pool {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DatabaseUrlError(url, 'not a URL; write it as postgres://user:password@host:5432/database');
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:')
    throw new DatabaseUrlError(url, 'must start with postgres:// (or postgresql://)');
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    types,
    application_name: options.applicationName ?? 'homenode',
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
  });
  // Without a listener, an idle connection that breaks would crash the process.
  pool.on('error', (error) => options.onError?.(error));
  return pool;
}

/**
 * Apply every migration newer than the database's, each in its own transaction, holding the
 * advisory lock for the whole run. Refuses a database migrated by a newer server.
 */
export async function migratePostgres(
  pool: Pool,
  migrations: Migration[] = loadPostgresMigrations(),
): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY.toString()]);
    try {
      await client.query(
        `CREATE TABLE IF NOT EXISTS schema_migrations (
           version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
      );
      const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
      const applied = new Set(rows.map((r) => r.version));
      const newest = Math.max(0, ...applied);
      const known = Math.max(0, ...migrations.map((m) => m.version));
      if (newest > known)
        throw new Error(
          `The database is at schema version ${newest}, newer than this server knows (${known}). Run the newer server version, or restore a backup taken before the upgrade.`,
        );
      let count = 0;
      for (const m of migrations) {
        if (applied.has(m.version)) continue;
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
            m.version,
            m.name,
          ]);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK');
          throw new Error(`PostgreSQL migration ${m.version} (${m.name}) failed`, { cause: error });
        }
        count += 1;
      }
      return count;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY.toString()]);
    }
  } finally {
    client.release();
  }
}

/** The versions applied, oldest first. */
export async function appliedMigrations(pool: Pool): Promise<number[]> {
  const { rows } = await pool.query<{ version: number }>(
    'SELECT version FROM schema_migrations ORDER BY version',
  );
  return rows.map((r) => r.version);
}

export async function pingPostgres(pool: Pool): Promise<boolean> {
  const { rows } = await pool.query<{ ok: number }>('SELECT 1 AS ok');
  return rows[0]?.ok === 1;
}
