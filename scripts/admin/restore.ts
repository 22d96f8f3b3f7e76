/**
 * `npm run admin -- restore FILE --db PATH`: put a backup in place of a (stopped) server's database.
 * The backup is checked first (SQLite integrity, a Home Node schema this version can migrate), then
 * copied next to the target and renamed over it, so the target is never half-written.
 */
import { chmodSync, copyFileSync, existsSync, renameSync, rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { loadMigrations } from '../../enroll-server/core/sqlite/database.js';

export interface RestoreResult {
  file: string;
  db: string;
  schemaVersion: number;
  nodes: number;
  owners: number;
}

export function restoreBackup(file: string, target: string, force: boolean): RestoreResult {
  if (!existsSync(file)) throw new Error(`The backup ${file} does not exist.`);
  const folder = dirname(resolve(target));
  if (!existsSync(folder)) {
    // A typo in --db would otherwise put the database where no server looks: say so, create nothing.
    throw new Error(
      `The folder ${folder} does not exist, so the database cannot be restored to ${target}. ` +
        `Check --db (the server's HOMENODE_DB, ./data/homenode.db by default); if the path is right, ` +
        `create the folder (mkdir -p -m 700 ${folder}) and run the restore again.`,
    );
  }
  const check = new Database(file, { readonly: true, fileMustExist: true });
  let schemaVersion: number;
  let counts: { nodes: number; owners: number };
  try {
    const integrity = check.pragma('integrity_check', { simple: true });
    if (integrity !== 'ok') throw new Error(`The backup ${file} is damaged: ${String(integrity)}.`);
    schemaVersion = Number(check.pragma('user_version', { simple: true }));
    const latest = Math.max(...loadMigrations().map((m) => m.version));
    if (schemaVersion < 1 || schemaVersion > latest) {
      throw new Error(
        `The backup has schema version ${schemaVersion}; this version of Home Node knows 1 to ${latest}.`,
      );
    }
    counts = check
      .prepare('SELECT (SELECT COUNT(*) FROM nodes) AS nodes, (SELECT COUNT(*) FROM owners) AS owners')
      .get() as { nodes: number; owners: number };
  } finally {
    check.close();
  }
  if (existsSync(target) && !force) {
    throw new Error(`${target} exists. Stop the server, then run again with --force to replace it.`);
  }
  const staging = `${target}.restoring`;
  copyFileSync(file, staging);
  // Password hashes and emails: readable by the server's user only (as the server creates it).
  chmodSync(staging, 0o600);
  // The old database's WAL and shared-memory files belong to it, not to the backup.
  for (const suffix of ['-wal', '-shm']) rmSync(target + suffix, { force: true });
  renameSync(staging, target);
  return { file, db: target, schemaVersion, ...counts };
}
