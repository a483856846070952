import type { Db, Q, Tables, Tx } from './client.ts';
import { openPostgres, type PgDb, type PostgresOptions } from './postgres.ts';
import * as pgSchema from './schema.pg.ts';

/**
 * PostgreSQL behind the repositories' Db: queries go to the pool, or to the transaction's connection when given
 * one; a nested transaction is drizzle's savepoint. The builder is typed as SQLite's (client.ts) — the calls are
 * the same and schema.pg.ts gives the same row types (test/db-dialects.test.ts) — hence the casts here and only here.
 */
export class PostgresDb implements Db {
  readonly dialect = 'postgres' as const;
  readonly t = pgSchema as unknown as Tables;
  readonly sqlite = undefined;

  constructor(
    private readonly pg: PgDb,
    private readonly end: () => Promise<void>,
  ) {}

  run<T>(tx: Tx | undefined, fn: (q: Q) => PromiseLike<T> | T): Promise<T> {
    try {
      return Promise.resolve(fn((tx?.q ?? this.pg) as unknown as Q));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  transaction<T>(fn: (tx: Tx) => Promise<T>, outer?: Tx): Promise<T> {
    const base = (outer?.q ?? this.pg) as unknown as PgDb;
    return base.transaction((t) => fn({ q: t as unknown as Q }));
  }

  async ping(): Promise<void> {
    await this.pg.$client.query('select 1');
  }

  close(): Promise<void> {
    return this.end();
  }
}

/** Connects to `url`, applies the PostgreSQL migrations, and returns it as the repositories' database. */
export async function createPostgresDb(url: string, options: PostgresOptions = {}): Promise<PostgresDb> {
  const p = await openPostgres(url, options);
  return new PostgresDb(p.db, p.close);
}
