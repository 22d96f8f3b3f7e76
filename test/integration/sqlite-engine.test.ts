/**
 * The SQLite engine keeps asynchronous transactions apart on its one connection: root calls wait
 * while a transaction is open, `tx` calls run inside it, a throw rolls everything back, nested
 * transactions are savepoints, and a `tx` cannot be used once its transaction has ended.
 * Real repositories on a real SQLite file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Owner } from '../../enroll-server/accounts/owner-repository.js';
import { type Db, openDatabase } from '../../enroll-server/core/sqlite/database.js';
import { TransactionEndedError } from '../../enroll-server/core/sqlite/engine.js';
import { createSqliteRepositories } from '../../enroll-server/sqlite-store.js';

const T0 = Date.parse('2026-11-02T00:00:00Z');
const owner = (n: number | string): Owner => ({
  id: `own_${n}`,
  email: `owner${n}@example.com`,
  name: `Owner ${n}`,
  createdAt: T0,
});
/** Yield to the event loop, as a transaction awaiting I/O (a hash, a network call) would. */
const later = (ms = 5) => new Promise((resolve) => setTimeout(resolve, ms));

function deferred() {
  let release = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  return { gate, release };
}

describe('SQLite engine: asynchronous transactions on one connection', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => cleanups.splice(0).forEach((c) => c()));

  function setup(): { db: Db; repos: ReturnType<typeof createSqliteRepositories> } {
    const dir = mkdtempSync(join(tmpdir(), 'homenode-engine-'));
    const db = openDatabase(join(dir, 'engine.db'));
    cleanups.push(() => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    });
    return { db, repos: createSqliteRepositories(db) };
  }

  it('runs two transactions that would interleave one after the other (no lost update)', async () => {
    const { repos } = setup();
    const order: string[] = [];
    // Each reads how many owners exist, yields, then creates the next one: interleaved, both
    // would read 0 and both create own_0 (a constraint error), or nest a BEGIN inside the other.
    const next = (name: string) =>
      repos.transaction(async (tx) => {
        order.push(`${name} reads`);
        const n = (await tx.owners.list('', 100, 0)).length;
        await later();
        await tx.owners.create(owner(n));
        order.push(`${name} commits`);
        return n;
      });
    const results = await Promise.all([next('a'), next('b')]);
    expect(results).toEqual([0, 1]);
    expect(order).toEqual(['a reads', 'a commits', 'b reads', 'b commits']);
    expect((await repos.owners.list('', 100, 0)).map((o) => o.id)).toEqual(['own_0', 'own_1']);
  });

  it('makes a root call wait while a transaction is open, then see its commit', async () => {
    const { repos } = setup();
    const { gate, release } = deferred();
    const tx = repos.transaction(async (t) => {
      await t.owners.create(owner('inside'));
      await gate;
    });
    await later();
    let answered = false;
    const read = repos.owners.get('own_inside').then((o) => {
      answered = true;
      return o;
    });
    await later(20);
    expect(answered).toBe(false);
    release();
    await tx;
    expect(await read).toMatchObject({ id: 'own_inside' });
    expect(answered).toBe(true);
  });

  it("keeps a root write out of another request's transaction that then rolls back", async () => {
    const { repos } = setup();
    const { gate, release } = deferred();
    const failing = repos.transaction(async (tx) => {
      await tx.owners.create(owner('doomed'));
      await gate;
      throw new Error('payment provider said no');
    });
    await later();
    const rootWrite = repos.owners.create(owner('root'));
    release();
    await expect(failing).rejects.toThrow('payment provider said no');
    await rootWrite;
    expect(await repos.owners.get('own_doomed')).toBeUndefined();
    expect(await repos.owners.get('own_root')).toMatchObject({ id: 'own_root' });
  });

  it('rolls back every write of a transaction that throws, and passes the error on', async () => {
    const { repos } = setup();
    await expect(
      repos.transaction(async (tx) => {
        await tx.owners.create(owner(1));
        await tx.activity.record(T0, { type: 'system', id: null }, 'owner.created', {
          type: 'owner',
          id: 'own_1',
        });
        await later();
        await tx.owners.create(owner(1)); // the same id again: a constraint error
      }),
    ).rejects.toThrow(/UNIQUE/);
    expect(await repos.owners.get('own_1')).toBeUndefined();
    expect(await repos.activity.list({ limit: 10 })).toEqual([]);
    // The connection is usable afterwards, inside and outside transactions.
    await repos.transaction(async (tx) => {
      await tx.owners.create(owner(2));
    });
    expect(await repos.owners.get('own_2')).toMatchObject({ id: 'own_2' });
  });

  it('runs queued root calls in the order they were made', async () => {
    const { repos } = setup();
    const { gate, release } = deferred();
    const tx = repos.transaction(async () => gate);
    await later();
    const done: string[] = [];
    const calls = [1, 2, 3].map((n) => repos.owners.create(owner(n)).then(() => done.push(`own_${n}`)));
    const second = repos.transaction(async (t) => {
      done.push(`tx sees ${(await t.owners.list('', 10, 0)).length}`);
    });
    const after = repos.owners.create(owner(4)).then(() => done.push('own_4'));
    release();
    await Promise.all([tx, ...calls, second, after]);
    expect(done).toEqual(['own_1', 'own_2', 'own_3', 'tx sees 3', 'own_4']);
  });

  it('makes a nested transaction a savepoint: its rollback keeps the outer writes', async () => {
    const { repos } = setup();
    await repos.transaction(async (tx) => {
      await tx.owners.create(owner('outer'));
      await expect(
        tx.transaction(async (inner) => {
          await inner.owners.create(owner('inner'));
          await later();
          throw new Error('inner step failed');
        }),
      ).rejects.toThrow('inner step failed');
      await tx.transaction(async (inner) => {
        await inner.owners.create(owner('kept'));
      });
    });
    const ids = (await repos.owners.list('', 10, 0)).map((o) => o.id).sort();
    expect(ids).toEqual(['own_kept', 'own_outer']);
  });

  it('refuses a tx used after its transaction ended instead of writing outside it', async () => {
    const { repos } = setup();
    let leaked: Parameters<Parameters<typeof repos.transaction>[0]>[0] | undefined;
    await repos.transaction(async (tx) => {
      leaked = tx;
    });
    await expect(leaked!.owners.create(owner('late'))).rejects.toBeInstanceOf(TransactionEndedError);
    expect(await repos.owners.get('own_late')).toBeUndefined();
  });

  it('rolls back a transaction when the disk is full (SQLITE_FULL), and lets the next one start', async () => {
    const { db, repos } = setup();
    // Make the database refuse to grow: the file may not take a single page more.
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.pragma(`max_page_count = ${Number(db.pragma('page_count', { simple: true }))}`);
    await expect(
      repos.transaction(async (tx) => {
        for (let i = 0; i < 500; i += 1) await tx.owners.create({ ...owner(i), name: 'x'.repeat(500) });
      }),
    ).rejects.toMatchObject({ code: 'SQLITE_FULL' });
    expect(db.inTransaction).toBe(false);
    db.pragma('max_page_count = 1073741823');
    await repos.transaction(async (tx) => {
      await tx.owners.create(owner('after'));
    });
    expect(await repos.owners.list('', 1000, 0)).toEqual([expect.objectContaining({ id: 'own_after' })]);
  });
});
