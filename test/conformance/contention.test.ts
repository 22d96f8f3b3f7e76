/**
 * When PostgreSQL keeps refusing a transaction to stay serialisable (40001) after the engine's
 * retries, a request is answered 503 with Retry-After (the agent and clients try again), never a
 * bare 500. The retries are cut to one here so that racing transactions run out of them.
 */
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { registerErrorHandler } from '../../enroll-server/core/error-handler.js';
import { type Pool, createPool } from '../../enroll-server/core/postgres/database.js';
import { createPostgresRepositories } from '../../enroll-server/postgres-store.js';
import { testDatabase } from '../helpers/engines.js';
import { owner } from './fixtures.js';

describe('contended transactions on postgres', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  async function appWithRetries(maxAttempts: number) {
    const db = await testDatabase();
    cleanup.push(() => db.drop());
    const pool: Pool = createPool(db.url, { max: 8 });
    cleanup.push(() => pool.end());
    const repos = createPostgresRepositories(pool, { maxAttempts });
    const app = Fastify({ logger: false });
    registerErrorHandler(app);
    // Check-then-write: each reads how many owners exist, yields, then creates the next one.
    app.post('/next-owner', async () =>
      repos.transaction(async (tx) => {
        const n = (await tx.owners.list('', 100, 0)).length;
        await new Promise((r) => setTimeout(r, 20));
        await tx.owners.create(owner(n));
        return { n };
      }),
    );
    cleanup.push(() => app.close());
    return { app, repos };
  }

  it('answers 503 with Retry-After once the retries run out, and saves nothing for those requests', async () => {
    const { app, repos } = await appWithRetries(1);
    const replies = await Promise.all(
      Array.from({ length: 6 }, () => app.inject({ method: 'POST', url: '/next-owner' })),
    );
    const statuses = replies.map((r) => r.statusCode);
    expect(statuses.filter((s) => s === 503).length).toBeGreaterThan(0);
    expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
    const busy = replies.find((r) => r.statusCode === 503)!;
    expect(busy.headers['retry-after']).toBe('2');
    expect(busy.json()).toEqual({
      error: { code: 'UNAVAILABLE', message: expect.stringContaining('Try again in a few seconds') },
    });
    const saved = await repos.owners.list('', 100, 0);
    expect(saved).toHaveLength(statuses.filter((s) => s === 200).length);
  });

  it('gets every racing request through with the default retries', async () => {
    const { app, repos } = await appWithRetries(20);
    const replies = await Promise.all(
      Array.from({ length: 6 }, () => app.inject({ method: 'POST', url: '/next-owner' })),
    );
    expect(replies.map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(replies.map((r) => r.json<{ n: number }>().n).sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(await repos.owners.list('', 100, 0)).toHaveLength(6);
  });
});
