/** Opens the SQLite database (WAL, foreign keys) and applies numbered migrations at start-up. */
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { type Migration, loadMigrations as loadMigrationFiles } from '../migration-files.js';

export type Db = Database.Database;

const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'migrations');

export type { Migration } from '../migration-files.js';

/** Migration files are `NNN_name.sql`, applied in order of NNN. */
export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return loadMigrationFiles(dir);
}

/**
 * The database holds password hashes, emails and signed reports: a folder we create is 0700, and
 * the database file is 0600 before SQLite opens it (an older file is narrowed to 0600 too). SQLite
 * creates its `-wal` and `-shm` files with the database file's mode; leftovers are narrowed here.
 */
function restrictFiles(file: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  closeSync(openSync(file, 'a', 0o600));
  for (const path of [file, `${file}-wal`, `${file}-shm`]) {
    try {
      chmodSync(path, 0o600);
    } catch (error) {
      // Missing (no WAL yet) is fine; a file owned by someone else keeps its mode.
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'EPERM') throw error;
    }
  }
}

export function openDatabase(file: string, migrations: Migration[] = loadMigrations()): Db {
  if (file !== ':memory:') restrictFiles(file);
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db, migrations);
  return db;
}

/** Apply every migration newer than the database's `user_version`, each in its own transaction. */
export function migrate(db: Db, migrations: Migration[]): number {
  const current = Number(db.pragma('user_version', { simple: true }));
  let applied = 0;
  for (const m of migrations) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
    applied += 1;
  }
  return applied;
}

/** True when the database answers a trivial query. */
export function pingDatabase(db: Db): boolean {
  return db.prepare('SELECT 1 AS ok').get() !== undefined;
}
