/**
 * The transaction contract of `core/transactions.ts` on both engines: a callback commits or rolls
 * back as a whole, nests as a savepoint, cannot be used after it ended, and two transactions that
 * check and then write never both act on a state that one of them has changed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Transactional } from '../../enroll-server/core/transactions.js';
import { TransactionEndedError } from '../../enroll-server/core/transactions.js';
import type { RepositorySet } from '../../enroll-server/repositories.js';
import { ENGINES, type OpenEngine, openEngine } from '../helpers/engines.js';
import { owner } from './fixtures.js';

const later = (ms = 5) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(ENGINES)('transactions on %s', (engine) => {
  const open: OpenEngine[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((e) => e.close()));
  });
  async function setup() {
    const e = await openEngine(engine);
    open.push(e);
    return e.repos;
  }

  it('commits everything the callback wrote, and returns its value', async () => {
    const repos = await setup();
    const n = await repos.transaction(async (tx) => {
      await tx.owners.create(owner(1));
      await tx.owners.create(owner(2));
      return (await tx.owners.list('', 10, 0)).length;
    });
    expect(n).toBe(2);
    expect((await repos.owners.list('', 10, 0)).map((o) => o.id)).toEqual(['own_1', 'own_2']);
  });

  it('rolls back everything when the callback throws, and passes the error on', async () => {
    const repos = await setup();
    await expect(
      repos.transaction(async (tx) => {
        await tx.owners.create(owner(1));
        await later();
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(await repos.owners.get('own_1')).toBeUndefined();
  });

  it('rolls back a transaction whose statement failed (a duplicate email, in any letter case)', async () => {
    const repos = await setup();
    await repos.owners.create(owner(1));
    await expect(
      repos.transaction(async (tx) => {
        await tx.owners.create(owner(2));
        await tx.owners.create({ ...owner(3), email: 'OWNER1@example.com' });
      }),
    ).rejects.toThrow();
    expect(await repos.owners.get('own_2')).toBeUndefined();
  });

  it('nests as a savepoint: an inner failure undoes only the inner work', async () => {
    const repos = await setup();
    await repos.transaction(async (tx) => {
      await tx.owners.create(owner(1));
      await tx
        .transaction(async (inner) => {
          await inner.owners.create(owner(2));
          throw new Error('inner');
        })
        .catch(() => undefined);
      await tx.owners.create(owner(3));
    });
    expect((await repos.owners.list('', 10, 0)).map((o) => o.id)).toEqual(['own_1', 'own_3']);
  });

  it('refuses a tx used after its transaction ended', async () => {
    const repos = await setup();
    let leaked: Transactional<RepositorySet> | undefined;
    await repos.transaction(async (tx) => {
      leaked = tx;
    });
    await expect(leaked!.owners.create(owner('late'))).rejects.toBeInstanceOf(TransactionEndedError);
    expect(await repos.owners.get('own_late')).toBeUndefined();
  });

  it('keeps what a transaction has not committed from the root repositories', async () => {
    const repos = await setup();
    let release = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const writing = repos.transaction(async (tx) => {
      await tx.owners.create(owner(1));
      await gate;
    });
    await later(20);
    // SQLite's read waits for the commit; PostgreSQL's answers at once, from before it. Neither
    // ever sees the uncommitted row.
    const read = repos.owners.get('own_1');
    const early = await Promise.race([read, later(1000).then(() => 'still waiting' as const)]);
    expect(early === undefined || early === 'still waiting').toBe(true);
    if (engine === 'postgres') expect(early).toBeUndefined();
    release();
    await writing;
    expect(await repos.owners.get('own_1')).toMatchObject({ id: 'own_1' });
  });

  it('serialises check-then-write: six racing "create the next owner" transactions make six owners', async () => {
    const repos = await setup();
    // Each reads how many owners exist, yields, then creates owner n. Interleaved without
    // serialisation two would read the same n and one would fail on the duplicate id.
    const next = () =>
      repos.transaction(async (tx) => {
        const n = (await tx.owners.list('', 100, 0)).length;
        await later(2);
        await tx.owners.create(owner(n));
        return n;
      });
    const results = await Promise.all(Array.from({ length: 6 }, next));
    expect([...results].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect((await repos.owners.list('', 100, 0)).map((o) => o.id)).toEqual([
      'own_0',
      'own_1',
      'own_2',
      'own_3',
      'own_4',
      'own_5',
    ]);
  });

  it('lets a transaction await several of its own calls at once', async () => {
    const repos = await setup();
    await repos.transaction(async (tx) => {
      await Promise.all([tx.owners.create(owner(1)), tx.owners.create(owner(2)), tx.owners.create(owner(3))]);
    });
    expect(await repos.owners.list('', 10, 0)).toHaveLength(3);
  });
});
