import type { Db } from './client.ts';

/**
 * Runs `fn` in one transaction: every repository call inside commits together or not at all. Nested calls become
 * savepoints (better-sqlite3), so a repository method that is atomic on its own may be called inside a larger one.
 *
 * The only place a transaction begins (test/architecture.test.ts keeps it so). Repositories are synchronous over
 * better-sqlite3 today; when they become async for PostgreSQL (issue 13), this becomes `async` and binds the
 * transaction's connection for the repository calls inside `fn`, and its callers change only by `await`.
 */
export function inTransaction<T>(db: Db, fn: () => T): T {
  return db.$client.transaction(fn)();
}

/** What a service holds to make several repository calls atomic, without holding the database. */
export type Transact = <T>(fn: () => T) => T;

export function transactor(db: Db): Transact {
  return (fn) => inTransaction(db, fn);
}
