/**
 * vitest globalSetup for the tests that need PostgreSQL: a throw-away server from Debian's
 * postgresql-15 (initdb in a temp folder, a free port), stopped in teardown. With
 * HOMENODE_TEST_POSTGRES_URL set (a superuser URL), that server is used instead.
 */
import type { TestProject } from 'vitest/node';
import { createPool, migratePostgres } from '../../enroll-server/core/postgres/database.js';
import { createDatabase, startPostgres } from '../../scripts/postgres-server.js';

declare module 'vitest' {
  interface ProvidedContext {
    /** A superuser URL of the test PostgreSQL server; tests make their own databases on it. */
    postgresUrl: string;
    /** A database with every migration applied, that tests copy (CREATE DATABASE … TEMPLATE). */
    postgresTemplate: string;
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const external = process.env.HOMENODE_TEST_POSTGRES_URL;
  const server = external ? undefined : await startPostgres();
  const url = external ?? server!.url;
  // Migrated once here; each test copies it in a few milliseconds instead of migrating anew.
  const template = await createDatabase(url, { prefix: 'hn_template' });
  const pool = createPool(template.url, { max: 1 });
  try {
    await migratePostgres(pool);
  } finally {
    await pool.end();
  }
  project.provide('postgresUrl', url);
  project.provide('postgresTemplate', new URL(template.url).pathname.slice(1));
  return async () => {
    await template.drop();
    await server?.stop();
  };
}
