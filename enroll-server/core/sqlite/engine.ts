/**
 * Asynchronous repositories over better-sqlite3, which is synchronous and has one connection.
 *
 * Every repository method runs its statements through a `Run` and returns a promise. An async
 * transaction callback yields at each `await`, and without care other requests' calls would then
 * run on the same connection, inside the open transaction. The engine makes that impossible:
 * - while a transaction is open, calls through the root repositories wait in a FIFO queue until
 *   it commits or rolls back (uncontended, they run at once, with no queueing at all);
 * - calls through the transaction's own `tx` run inside it, at once;
 * - `tx.transaction(…)` is a SAVEPOINT (siblings on one `tx` take turns);
 * - a transaction is `BEGIN IMMEDIATE … COMMIT`, rolled back when its callback throws.
 * A `tx` used after its transaction ended throws rather than writing outside of it.
 *
 * Calling the root repositories from inside a transaction callback would wait for that very
 * transaction: always use `tx` there (test/unit/architecture.test.ts checks the source for it).
 */
import { TransactionEndedError, type Transactional } from '../transactions.js';
import type { Db } from './database.js';

/** Runs a synchronous piece of SQLite work on the connection, when the connection is ours. */
export type Run = <T>(work: () => T) => Promise<T>;

/** Builds one repository set whose statements all go through `run`. */
export type BindRepositories<R> = (run: Run) => R;

export { TransactionEndedError };

function settle<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

/** One open transaction (or savepoint) and whether it may still be used. */
interface Scope {
  open: boolean;
  parent: Scope | null;
  /** Savepoints opened on this scope's `tx` take turns. */
  turn: Promise<void>;
}

const isOpen = (scope: Scope): boolean => scope.open && (scope.parent === null || isOpen(scope.parent));

export class SqliteEngine<R extends object> {
  /** True while a transaction (or a queued root call being run) holds the connection. */
  private busy = false;
  /** Who gets the connection next; a waiter returns true when it keeps holding it (a transaction). */
  private readonly waiting: (() => boolean)[] = [];
  private savepoints = 0;
  private readonly begin;
  private readonly commit;
  private readonly rollback;

  constructor(
    private readonly db: Db,
    private readonly bind: BindRepositories<R>,
  ) {
    this.begin = db.prepare('BEGIN IMMEDIATE');
    this.commit = db.prepare('COMMIT');
    this.rollback = db.prepare('ROLLBACK');
  }

  /** The root repositories: each call waits while a transaction is open. */
  repositories(): Transactional<R> {
    return this.withTransactions(this.bind(this.run), null);
  }

  /** How many calls and transactions are waiting for the connection (for tests and metrics). */
  get queued(): number {
    return this.waiting.length;
  }

  /** Runs work as a root call: at once, or after the open transaction (and those queued before). */
  readonly run: Run = <T>(work: () => T): Promise<T> => {
    if (!this.busy) return settle(work);
    return new Promise<T>((resolve, reject) => {
      this.waiting.push(() => {
        settle(work).then(resolve, reject);
        return false;
      });
    });
  };

  // A transaction builds its own repository set, so what it allocates matters: method shorthand
  // and anonymous arrows here, because tsx (esbuild's keep-names) wraps every named arrow function
  // in a defineProperty call, about 1 µs each, on every transaction.
  private withTransactions(repos: R, scope: Scope | null): Transactional<R> {
    const open = this.open;
    return Object.assign(repos, {
      transaction<T>(fn: (tx: Transactional<R>) => Promise<T>): Promise<T> {
        return open(scope, fn);
      },
    });
  }

  /** A transaction from the root, a savepoint from inside one. Created once per engine. */
  private readonly open = <T>(scope: Scope | null, fn: (tx: Transactional<R>) => Promise<T>): Promise<T> =>
    scope === null ? this.transaction(fn) : this.savepoint(scope, fn);

  private scoped(parent: Scope | null): { scope: Scope; tx: Transactional<R> } {
    const scope: Scope = { open: true, parent, turn: Promise.resolve() };
    const repos = this.bind((work) =>
      isOpen(scope) ? settle(work) : Promise.reject(new TransactionEndedError()),
    );
    return { scope, tx: this.withTransactions(repos, scope) };
  }

  private async transaction<T>(fn: (tx: Transactional<R>) => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      this.begin.run();
      const { scope, tx } = this.scoped(null);
      try {
        const result = await fn(tx);
        scope.open = false;
        this.commit.run();
        return result;
      } catch (error) {
        scope.open = false;
        // SQLite may already have rolled back by itself (SQLITE_FULL, SQLITE_IOERR, …).
        if (this.db.inTransaction) this.rollback.run();
        throw error;
      }
    } finally {
      this.release();
    }
  }

  private async savepoint<T>(parent: Scope, fn: (tx: Transactional<R>) => Promise<T>): Promise<T> {
    const previous = parent.turn;
    let done = () => {};
    parent.turn = new Promise<void>((resolve) => (done = resolve));
    await previous;
    try {
      if (!isOpen(parent)) throw new TransactionEndedError();
      this.savepoints += 1;
      const name = `sp_${this.savepoints}`;
      this.db.exec(`SAVEPOINT ${name}`);
      const { scope, tx } = this.scoped(parent);
      try {
        const result = await fn(tx);
        scope.open = false;
        this.db.exec(`RELEASE ${name}`);
        return result;
      } catch (error) {
        scope.open = false;
        if (this.db.inTransaction) this.db.exec(`ROLLBACK TO ${name}; RELEASE ${name}`);
        throw error;
      }
    } finally {
      done();
    }
  }

  private acquire(): Promise<void> {
    if (!this.busy) {
      this.busy = true;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      this.waiting.push(() => {
        resolve();
        return true;
      });
    });
  }

  /** Hand the connection to the next waiter: queued root calls run now, a transaction keeps it. */
  private release(): void {
    for (let next = this.waiting.shift(); next; next = this.waiting.shift()) {
      if (next()) return;
    }
    this.busy = false;
  }
}
