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
    const store = createSqliteStore(openDatabase(join(dir, 'homenode.db')), { closeDb: true });
    return {
      name,
      store,
      repos: store.repos,
      async close() {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const db = await testDatabase();
  const store = await openPostgresStore(db.url, { max: 8 });
  return {
    name,
    store,
    repos: store.repos,
    url: db.url,
    async close() {
      await store.close();
      await db.drop();
    },
  };
}
