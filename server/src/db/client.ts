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
  /**
   * Takes the exclusive lock `key` unless another instance holds it (null then). Held until released or until the
   * holder's connection dies — a killed instance loses it at once. On SQLite there is one instance: always granted.
   */
  tryLock(key: number): Promise<HeldLock | null>;
  /** Tells every instance listening on `channel` (PostgreSQL NOTIFY; nothing on SQLite, whose one instance is all). */
  notify(channel: string, payload: string): Promise<void>;
  /**
   * Calls `fn` with each payload notified on `channel` by any instance (this one too). `fn(null)` after the
   * listening connection was lost and made again: what was notified meanwhile is gone, so reload everything.
   */
  listen(channel: string, fn: (payload: string | null) => void): Promise<() => Promise<void>>;
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

/** The lock whose holder is the leader of the instances sharing the database (jobs/leader.ts); 1 is the migrations'. */
export const LEADER_LOCK = 2;

/** An exclusive lock held for as long as its connection lives (a leader's, db/…: `Db.tryLock`). */
export interface HeldLock {
  /** settles when the lock is gone without release(): its connection died, so another instance may hold it now */
  readonly lost: Promise<void>;
  release(): Promise<void>;
}
