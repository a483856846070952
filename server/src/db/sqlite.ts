import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { fileURLToPath } from 'node:url';
import type { Db, HeldLock, Q, Tx } from './client.ts';
import * as schema from './schema.ts';

const MIGRATIONS = fileURLToPath(new URL('./migrations', import.meta.url));

/** A transaction that held the one connection this long is reported: it is waiting on something that is not the database. */
const HELD_WARN_MS = 10_000;

/**
 * SQLite through better-sqlite3: one connection, queries run synchronously when awaited. A transaction spans awaits,
 * so while one is open every query not given it waits (the gate), or it would run inside that transaction and
 * commit or roll back with it. Queries given the transaction run at once; a nested transaction is a savepoint.
 *
 * A query made inside a transaction's callback without passing the transaction waits for the transaction, which
 * waits for it: the warning after HELD_WARN_MS names that mistake.
 */
export class SqliteDb implements Db {
  readonly dialect = 'sqlite' as const;
  readonly t = schema;
  readonly q: Q;
  private held: { done: Promise<void>; since: number } | null = null;
  private savepoints = 0;

  constructor(
    readonly sqlite: Database.Database,
    private onWarn: (msg: string) => void = (m) => process.emitWarning(m),
    private warnAfterMs = HELD_WARN_MS,
  ) {
    this.q = drizzle(sqlite, { schema });
  }

  run<T>(tx: Tx | undefined, fn: (q: Q) => PromiseLike<T> | T): Promise<T> {
    if (tx || !this.held) return now(fn, this.q);
    return this.wait().then(() => this.run(tx, fn));
  }

  async transaction<T>(fn: (tx: Tx) => Promise<T>, outer?: Tx): Promise<T> {
    if (outer) return this.savepoint(fn, outer);
    // checked and taken in one synchronous step after each wait: two waiters woken together must not both take it
    while (this.held) await this.wait();
    let release!: () => void;
    this.held = { done: new Promise((r) => (release = r)), since: Date.now() };
    const tx: Tx = { q: this.q };
    try {
      this.sqlite.exec('begin immediate');
      const result = await fn(tx);
      this.sqlite.exec('commit');
      return result;
    } catch (err) {
      if (this.sqlite.inTransaction) this.sqlite.exec('rollback');
      throw err;
    } finally {
      this.held = null;
      release();
    }
  }

  /** One process owns a SQLite file's server: it is the leader of itself. */
  async tryLock(): Promise<HeldLock> {
    return { lost: new Promise<void>(() => undefined), release: async () => undefined };
  }

  async notify(): Promise<void> {}

  async listen(): Promise<() => Promise<void>> {
    return async () => undefined;
  }

  async ping(): Promise<void> {
    this.sqlite.prepare('select 1').get();
  }

  async close(): Promise<void> {
    while (this.held) await this.wait();
    this.sqlite.close();
  }

  private async savepoint<T>(fn: (tx: Tx) => Promise<T>, outer: Tx): Promise<T> {
    const name = `sp${++this.savepoints}`;
    this.sqlite.exec(`savepoint ${name}`);
    try {
      const result = await fn(outer);
      this.sqlite.exec(`release ${name}`);
      return result;
    } catch (err) {
      this.sqlite.exec(`rollback to ${name}`);
      this.sqlite.exec(`release ${name}`);
      throw err;
    }
  }

  /** Until the transaction holding the connection now ends (another may have begun by then: callers check again). */
  private async wait(): Promise<void> {
    const held = this.held;
    if (!held) return;
    const timer = setTimeout(() => this.onWarn(`a SQLite transaction has held the connection for ${Date.now() - held.since} ms (a query inside it not given its transaction?)`), this.warnAfterMs);
    try {
      await held.done;
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * Runs the query now, in this tick: a drizzle SQLite query executes when its `then` is called, and an `await` or a
 * promise resolution would call it a microtask later, when a transaction may have begun.
 */
function now<T>(fn: (q: Q) => PromiseLike<T> | T, q: Q): Promise<T> {
  try {
    const r = fn(q);
    if (r && typeof (r as PromiseLike<T>).then === 'function') return new Promise<T>((res, rej) => (r as PromiseLike<T>).then(res, rej));
    return Promise.resolve(r as T);
  } catch (err) {
    return Promise.reject(err);
  }
}

/** Opens (or creates) the SQLite file and applies the committed migrations. `:memory:` for unit tests. */
export function createDb(file: string): SqliteDb {
  const sqlite = new Database(file);
  sqlite.pragma('journal_mode = WAL');
  // NORMAL is durable across process crashes in WAL mode; only an OS crash can lose the last transactions.
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = new SqliteDb(sqlite);
  migrate(db.q, { migrationsFolder: MIGRATIONS });
  return db;
}
