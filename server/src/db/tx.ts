import type { Db, Tx } from './client.ts';

export type { Tx };

/**
 * Runs `fn` in one transaction: every repository call inside that is given `tx` commits together or not at all.
 * Inside `outer`, a savepoint of it, so a repository method that is atomic on its own may join a larger one.
 * The only place a transaction begins (test/architecture.test.ts keeps it so).
 */
export function inTransaction<T>(db: Db, fn: (tx: Tx) => Promise<T>, outer?: Tx): Promise<T> {
  return db.transaction(fn, outer);
}

/** What a service holds to make several repository calls atomic, without holding the database. */
export type Transact = <T>(fn: (tx: Tx) => Promise<T>) => Promise<T>;

export function transactor(db: Db): Transact {
  return (fn) => inTransaction(db, fn);
}
