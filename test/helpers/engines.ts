/**
 * The two storage engines behind one interface, for the conformance suite: each `openEngine`
 * gives a fresh, migrated, empty store (a temp SQLite file, or a new database on the test
 * PostgreSQL server from `postgres-global-setup.ts`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { openDatabase } from '../../enroll-server/core/sqlite/database.js';
import { openPostgresStore } from '../../enroll-server/postgres-store.js';
import type { Repositories, Store } from '../../enroll-server/repositories.js';
import { createSqliteStore } from '../../enroll-server/sqlite-store.js';
import { createDatabase } from '../../scripts/postgres-server.js';

export type EngineName = 'sqlite' | 'postgres';
export const ENGINES: readonly EngineName[] = ['sqlite', 'postgres'];

export interface OpenEngine {
  name: EngineName;
  store: Store;
  repos: Repositories;
  /** The PostgreSQL URL of this store's database (postgres only). */
  url?: string;
  /**
   * A second store on the same database, with its own connections (SQLite: a second connection to
   * the file; PostgreSQL: a second pool, as another replica has); closed with this engine.
   */
  openAnother(): Promise<Store>;
  close(): Promise<void>;
}

/** A new database on the test PostgreSQL server: migrated (a copy of the template), or empty. */
export function testDatabase(
  options: { empty?: boolean } = {},
): Promise<{ url: string; drop(): Promise<void> }> {
  return createDatabase(inject('postgresUrl'), {
    prefix: 'hn_test',
    template: options.empty ? undefined : inject('postgresTemplate'),
  });
}

export async function openEngine(name: EngineName): Promise<OpenEngine> {
  if (name === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'homenode-conformance-'));
    const path = join(dir, 'homenode.db');
    const store = createSqliteStore(openDatabase(path), { closeDb: true });
    const others: Store[] = [];
    return {
      name,
      store,
      repos: store.repos,
      async openAnother() {
        const other = createSqliteStore(openDatabase(path), { closeDb: true });
        others.push(other);
        return Promise.resolve(other);
      },
      async close() {
        await Promise.all(others.map((o) => o.close()));
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const db = await testDatabase();
  const store = await openPostgresStore(db.url, { max: 8 });
  const others: Store[] = [];
  return {
    name,
    store,
    repos: store.repos,
    url: db.url,
    async openAnother() {
      const other = await openPostgresStore(db.url, { max: 8 });
      others.push(other);
      return other;
    },
    async close() {
      await Promise.all(others.map((o) => o.close()));
      await store.close();
      await db.drop();
    },
  };
}
