/**
 * PostgreSQL's numbered migrations: applied once, in order, each in a transaction, tracked in
 * schema_migrations; replicas starting together migrate one at a time (advisory lock); a database
 * migrated by a newer server is refused with a message that says what to do.
 */
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import {
  appliedMigrations,
  createPool,
  loadPostgresMigrations,
  migratePostgres,
} from '../../enroll-server/core/postgres/database.js';
import { testDatabase } from '../helpers/engines.js';

describe('PostgreSQL migrations', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function emptyDatabase() {
    const db = await testDatabase({ empty: true });
    cleanups.push(() => db.drop());
    return db;
  }
  function pool(url: string) {
    const p = createPool(url, { max: 2 });
    cleanups.push(() => p.end());
    return p;
  }

  it('applies every migration once, in order, even when five replicas start at the same moment', async () => {
    const db = await emptyDatabase();
    const migrations = loadPostgresMigrations();
    expect(migrations.map((m) => m.version)).toEqual(migrations.map((_, i) => i + 1));
    const counts = await Promise.all(Array.from({ length: 5 }, () => migratePostgres(pool(db.url))));
    expect(counts.sort()).toEqual([0, 0, 0, 0, migrations.length]);
    expect(await appliedMigrations(pool(db.url))).toEqual(migrations.map((m) => m.version));
    expect(await migratePostgres(pool(db.url))).toBe(0);
  });

  it('rolls a failing migration back whole and says which one failed', async () => {
    const db = await emptyDatabase();
    const broken = [
      ...loadPostgresMigrations(),
      { version: 99, name: 'broken', sql: 'CREATE TABLE half_done (id int); SELECT no_such_function();' },
    ];
    await expect(migratePostgres(pool(db.url), broken)).rejects.toThrow(/migration 99 \(broken\) failed/);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    cleanups.push(() => client.end());
    const table = await client.query("SELECT to_regclass('half_done') AS t");
    expect(table.rows[0]).toEqual({ t: null });
    expect((await appliedMigrations(pool(db.url))).at(-1)).toBe(loadPostgresMigrations().at(-1)?.version);
  });

  it('refuses a database that a newer server migrated', async () => {
    const db = await emptyDatabase();
    const newer = [...loadPostgresMigrations(), { version: 500, name: 'future', sql: 'SELECT 1;' }];
    await migratePostgres(pool(db.url), newer);
    await expect(migratePostgres(pool(db.url))).rejects.toThrow(
      /schema version 500, newer than this server knows .*Run the newer server version/,
    );
  });
});
