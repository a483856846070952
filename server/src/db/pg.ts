import pg from 'pg';
import type { Db, HeldLock, Q, Tables, Tx } from './client.ts';
import { LOCK_NAMESPACE, openPostgres, type PgDb, type PostgresOptions } from './postgres.ts';
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
    private readonly url: string,
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

  /**
   * A session advisory lock on a connection of its own (not the pool's: the lock lives as long as that one
   * session). PostgreSQL drops it when the session ends, so a killed holder's lock is free as soon as the server
   * sees its socket close; a holder that loses its connection learns it from `lost` (a failed probe every
   * `probeMs`, or the connection's error) and must stop acting as the holder at once.
   */
  async tryLock(key: number, probeMs = 2_000): Promise<HeldLock | null> {
    const client = new pg.Client({ connectionString: this.url, application_name: 'loa-xa-lock', keepAlive: true, connectionTimeoutMillis: 5_000 });
    client.on('error', () => undefined); // reported through `lost` below
    await client.connect();
    try {
      const r = await client.query<{ ok: boolean }>('select pg_try_advisory_lock($1, $2) as ok', [LOCK_NAMESPACE, key]);
      if (!r.rows[0]?.ok) {
        await client.end();
        return null;
      }
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    let released = false;
    let lose!: () => void;
    const lost = new Promise<void>((r) => (lose = r));
    const probe = setInterval(() => {
      client.query('select 1').catch(() => {
        clearInterval(probe);
        lose();
      });
    }, probeMs);
    probe.unref();
    client.on('error', () => (clearInterval(probe), lose()));
    client.on('end', () => (clearInterval(probe), released || lose()));
    return {
      lost,
      release: async () => {
        released = true;
        clearInterval(probe);
        await client.end().catch(() => undefined); // ending the session frees the lock
      },
    };
  }

  async notify(channel: string, payload: string): Promise<void> {
    await this.pg.$client.query('select pg_notify($1, $2)', [channel, payload]);
  }

  /** On a connection of its own, made again (after `retryMs`) whenever it is lost. */
  async listen(channel: string, fn: (payload: string | null) => void, retryMs = 1_000): Promise<() => Promise<void>> {
    if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`channel ${channel}: [a-z0-9_] only`);
    let stopped = false;
    let client: pg.Client | null = null;
    let timer: NodeJS.Timeout | null = null;
    const connect = async (again: boolean): Promise<void> => {
      const c = new pg.Client({ connectionString: this.url, application_name: 'loa-xa-listen', keepAlive: true, connectionTimeoutMillis: 5_000 });
      let lost = false;
      const reconnect = () => {
        if (lost || stopped) return;
        lost = true;
        client = null;
        timer = setTimeout(() => void connect(true).catch(reconnect), retryMs);
        timer.unref();
      };
      c.on('error', reconnect);
      c.on('end', reconnect);
      c.on('notification', (n) => n.channel === channel && fn(n.payload ?? ''));
      try {
        await c.connect();
        await c.query(`listen ${channel}`);
      } catch (err) {
        await c.end().catch(() => undefined);
        if (!again) throw err;
        reconnect();
        return;
      }
      if (stopped) return void (await c.end().catch(() => undefined));
      client = c;
      if (again) fn(null);
    };
    await connect(false);
    return async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      await (client as pg.Client | null)?.end().catch(() => undefined);
    };
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
  return new PostgresDb(p.db, p.close, url);
}
