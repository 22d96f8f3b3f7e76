/**
 * Asynchronous repositories over a PostgreSQL connection pool, with the same transaction contract
 * as the SQLite engine (`core/transactions.ts`):
 * - a call through the root repositories is one statement on any pooled connection (autocommit);
 * - `transaction(fn)` takes one connection for the whole callback, `BEGIN ISOLATION LEVEL
 *   SERIALIZABLE … COMMIT`, rolled back when the callback throws. SERIALIZABLE gives what SQLite's
 *   single writer gives: a check read inside the transaction still holds at its write, whichever
 *   replica runs the transaction next to it;
 * - when PostgreSQL refuses a transaction so that it stays serialisable (40001) or breaks a
 *   deadlock (40P01), the whole callback runs again, on a fresh snapshot, a few times with a short
 *   random pause. Callbacks therefore do only database work and pure steps (as they must for the
 *   SQLite engine too);
 * - `tx.transaction(…)` is a SAVEPOINT (siblings on one `tx` take turns);
 * - a `tx` used after its transaction ended throws rather than writing outside of it.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import type { QueryResultRow } from 'pg';
import { TransactionEndedError, type Transactional } from '../transactions.js';
import type { Pool } from './database.js';

/** Statements of one repository set, bound to the pool (root) or to one transaction's connection. */
export interface Sql {
  rows<T extends QueryResultRow>(text: string, values?: readonly unknown[]): Promise<T[]>;
  row<T extends QueryResultRow>(text: string, values?: readonly unknown[]): Promise<T | undefined>;
  /** How many rows the statement inserted, changed or deleted. */
  run(text: string, values?: readonly unknown[]): Promise<number>;
}

export type BindRepositories<R> = (sql: Sql) => R;

/** SQLSTATEs after which the whole transaction may simply run again. */
const RETRYABLE = new Set(['40001', '40P01']);

export function isRetryable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && RETRYABLE.has(code);
}

interface Scope {
  open: boolean;
  parent: Scope | null;
  turn: Promise<void>;
}

const isOpen = (scope: Scope): boolean => scope.open && (scope.parent === null || isOpen(scope.parent));

/** Named statements are parsed and planned once per connection, then only executed. */
const names = new Map<string, string>();
function statementName(text: string): string {
  let name = names.get(text);
  if (!name) {
    name = `hn_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
    names.set(text, name);
  }
  return name;
}

type Run = <T extends QueryResultRow>(config: pg.QueryConfig) => Promise<pg.QueryResult<T>>;

/** A connection runs one statement at a time: calls awaited together inside a transaction queue up. */
function serialised(client: pg.PoolClient): Run {
  let last: Promise<unknown> = Promise.resolve();
  return <T extends QueryResultRow>(config: pg.QueryConfig) => {
    const next = last.then(
      () => client.query<T>(config),
      () => client.query<T>(config),
    );
    last = next.catch(() => undefined);
    return next;
  };
}

function sqlOn(run: Run, scope: Scope | null): Sql {
  const query = async <T extends QueryResultRow>(
    text: string,
    values: readonly unknown[] = [],
  ): Promise<pg.QueryResult<T>> => {
    if (scope && !isOpen(scope)) throw new TransactionEndedError();
    return run<T>({ name: statementName(text), text, values: [...values] });
  };
  return {
    rows: async <T extends QueryResultRow>(text: string, values?: readonly unknown[]) =>
      (await query<T>(text, values)).rows,
    row: async <T extends QueryResultRow>(
      text: string,
      values?: readonly unknown[],
    ): Promise<T | undefined> => {
      const { rows } = await query<T>(text, values);
      return rows[0];
    },
    run: async (text, values) => (await query(text, values)).rowCount ?? 0,
  };
}

export interface PostgresEngineOptions {
  /** How many times a transaction runs at most when PostgreSQL asks for a retry (default 20). */
  maxAttempts?: number;
  /** Told about each retry (for logs and metrics). */
  onRetry?: (attempt: number, error: unknown) => void;
}

/** Control statements of a transaction (BEGIN, SAVEPOINT, …) go through the same queue as its work. */
const control = (run: Run, text: string) => run({ text });

export class PostgresEngine<R extends object> {
  private savepoints = 0;
  private readonly maxAttempts: number;
  private readonly root: Run;

  constructor(
    private readonly pool: Pool,
    private readonly bind: BindRepositories<R>,
    private readonly options: PostgresEngineOptions = {},
  ) {
    this.maxAttempts = options.maxAttempts ?? 20;
    this.root = <T extends QueryResultRow>(config: pg.QueryConfig) => pool.query<T>(config);
  }

  /** The root repositories: each call is one statement on a pooled connection. */
  repositories(): Transactional<R> {
    return this.withTransactions(this.bind(sqlOn(this.root, null)), null, null);
  }

  private withTransactions(repos: R, scope: Scope | null, run: Run | null): Transactional<R> {
    return Object.assign(repos, {
      transaction: <T>(fn: (tx: Transactional<R>) => Promise<T>): Promise<T> =>
        scope === null || run === null ? this.transaction(fn) : this.savepoint(run, scope, fn),
    });
  }

  private scoped(run: Run, parent: Scope | null): { scope: Scope; tx: Transactional<R> } {
    const scope: Scope = { open: true, parent, turn: Promise.resolve() };
    return { scope, tx: this.withTransactions(this.bind(sqlOn(run, scope)), scope, run) };
  }

  private async transaction<T>(fn: (tx: Transactional<R>) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.attempt(fn);
      } catch (error) {
        if (!isRetryable(error) || attempt >= this.maxAttempts) throw error;
        this.options.onRetry?.(attempt, error);
        // Spread the retries of transactions that collided (full jitter, doubling up to 250 ms), so
        // that dozens of transactions on one hot row (an enrollment key's use count) get through.
        await sleep(Math.floor(Math.random() * Math.min(250, 4 * 2 ** attempt)) + 1);
      }
    }
  }

  private async attempt<T>(fn: (tx: Transactional<R>) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    const run = serialised(client);
    let broken: Error | undefined;
    try {
      await control(run, 'BEGIN ISOLATION LEVEL SERIALIZABLE');
      const { scope, tx } = this.scoped(run, null);
      try {
        const result = await fn(tx);
        scope.open = false;
        await control(run, 'COMMIT');
        return result;
      } catch (error) {
        scope.open = false;
        // After a failed COMMIT PostgreSQL has rolled back already; ROLLBACK then only warns.
        await control(run, 'ROLLBACK').catch((rollbackError: unknown) => {
          broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
        });
        throw error;
      }
    } finally {
      // A connection that could not even roll back is closed rather than reused.
      client.release(broken);
    }
  }

  private async savepoint<T>(run: Run, parent: Scope, fn: (tx: Transactional<R>) => Promise<T>): Promise<T> {
    const previous = parent.turn;
    let done = () => {};
    parent.turn = new Promise<void>((resolve) => (done = resolve));
    await previous;
    try {
      if (!isOpen(parent)) throw new TransactionEndedError();
      this.savepoints += 1;
      const name = `sp_${this.savepoints}`;
      await control(run, `SAVEPOINT ${name}`);
      const { scope, tx } = this.scoped(run, parent);
      try {
        const result = await fn(tx);
        scope.open = false;
        await control(run, `RELEASE SAVEPOINT ${name}`);
        return result;
      } catch (error) {
        scope.open = false;
        await control(run, `ROLLBACK TO SAVEPOINT ${name}`);
        await control(run, `RELEASE SAVEPOINT ${name}`);
        throw error;
      }
    } finally {
      done();
    }
  }
}
