/**
 * The engine-neutral shape of storage: a set of asynchronous repositories that can open a
 * transaction. Inside `transaction(async (tx) => …)`, `tx` is the same set bound to that one
 * transaction: it commits when the callback's promise resolves and rolls back when it rejects.
 * `tx.transaction(…)` nests (a savepoint). Services name the repositories they need, e.g.
 * `Transactional<{ keys: KeyRepository; activity: ActivityLog }>`, and receive the full set.
 */
export type Transactional<R> = R & {
  transaction<T>(fn: (tx: Transactional<R>) => Promise<T>): Promise<T>;
};

/** A `tx` was used after its transaction committed or rolled back (any engine). */
export class TransactionEndedError extends Error {
  constructor() {
    super(
      'This transaction has already committed or rolled back; its repositories can no longer be used. Await every call inside the transaction callback.',
    );
    this.name = 'TransactionEndedError';
  }
}
