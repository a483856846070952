import type Database from 'better-sqlite3';
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import * as schema from './schema.ts';

/**
 * The query builder repositories write against. Its types are SQLite's; on PostgreSQL the same calls reach drizzle's
 * pg builder with the tables of `schema.pg.ts`, whose row types are the same. So repositories only build queries and
 * await them: `.all()/.get()/.run()` and `$client` are SQLite's alone (test/architecture.test.ts keeps them out).
 */
export type Q = BetterSQLite3Database<typeof schema>;
export type Tables = typeof schema;

/** A transaction in progress: repository calls given it run inside it. */
export interface Tx {
  readonly q: Q;
}

/**
 * The database as repositories see it, on either engine. Every query runs through `run`, given the transaction it
 * belongs to, if any; `transaction` is the only way one begins (`db/tx.ts` for services).
 */
export interface Db {
  readonly dialect: 'sqlite' | 'postgres';
  /** the tables of this engine's schema */
  readonly t: Tables;
  /**
   * Runs one query (or, on SQLite, one prepared statement) built by `fn`: inside `tx` when given, else on its own
   * (on SQLite, once no transaction holds its one connection).
   */
  run<T>(tx: Tx | undefined, fn: (q: Q) => PromiseLike<T> | T): Promise<T>;
  /** Runs `fn` in one transaction; inside `outer`, as a savepoint of it. Rolled back if `fn` throws. */
  transaction<T>(fn: (tx: Tx) => Promise<T>, outer?: Tx): Promise<T>;
  /** better-sqlite3 itself, for a repository's prepared statements on hot paths; absent on PostgreSQL */
  readonly sqlite?: Database.Database;
  /** throws unless the database answers a trivial query (the health check's probe) */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export { schema };
export { createDb } from './sqlite.ts';

/** The first row of a result, or null. */
export function first<T>(rows: T[]): T | null {
  return rows[0] ?? null;
}

/**
 * The database the configuration names: PostgreSQL when `url` is set (postgres://…), else the SQLite file.
 * PostgreSQL's driver is loaded only then.
 */
export async function openDb(opts: { url?: string; file: string; onError?: (err: Error) => void }): Promise<Db> {
  if (opts.url) {
    const { createPostgresDb } = await import('./pg.ts');
    return createPostgresDb(opts.url, { onError: opts.onError });
  }
  const { createDb } = await import('./sqlite.ts');
  return createDb(opts.file);
}
