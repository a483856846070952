/**
 * PostgreSQL as the database (issue 13, LOA_DB_URL=postgres://…): a pg Pool, drizzle over schema.pg.ts, and the
 * committed migrations of migrations-pg applied at start under an advisory lock.
 */
import { sql } from 'drizzle-orm';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import * as schema from './schema.pg.ts';

export type PgDb = NodePgDatabase<typeof schema> & { $client: pg.Pool };

export interface Postgres {
  db: PgDb;
  pool: pg.Pool;
  /** Ends the pool: waits for the checked-out clients to be released, then closes every connection. */
  close(): Promise<void>;
}

const MIGRATIONS = fileURLToPath(new URL('./migrations-pg', import.meta.url));

/**
 * Advisory locks are taken in the two-key form (namespace, key) so they cannot meet the one-key locks of another
 * application sharing the database. The namespace is "Loa" in ASCII; later keys (the leader lock of
 * docs/architecture.md §2) take the next numbers.
 */
export const LOCK_NAMESPACE = 0x4c6f61;
export const LOCK_MIGRATIONS = 1;

const OID_INT8 = 20;
const OID_NUMERIC = 1700;

/** int8 as a JS number, refusing (the query fails) a value a double cannot hold rather than rounding it. */
function parseInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new RangeError(`int8 ${text} is beyond Number.MAX_SAFE_INTEGER`);
  return n;
}

const OURS: Record<number, (text: string) => unknown> = { [OID_INT8]: parseInt8, [OID_NUMERIC]: Number };

/** Our parsers in front of another type source, for text-format results (the only format node-postgres asks for). */
const layered = (under: pg.CustomTypesConfig): pg.CustomTypesConfig => ({
  getTypeParser: ((oid: number, format?: string) => ((format ?? 'text') === 'text' && OURS[oid]) || under.getTypeParser(oid, format as 'text')) as pg.CustomTypesConfig['getTypeParser'],
});

/**
 * pg returns int8 (count(*), every bigint column) and numeric (sum, avg) as strings. The parsers are set on this
 * pool's clients, not on pg's global registry (which every other pg user in the process shares), in two places:
 * the pool's `types` (plain `pool.query`), and each query's own `types`, because drizzle's node-postgres session
 * sends every query with a `types` object that falls back to the *global* registry and would bypass the pool's.
 */
function numbersFromThisPool(client: pg.PoolClient): void {
  const query = client.query;
  client.query = function (this: pg.PoolClient, config: unknown, ...rest: unknown[]) {
    const c = config as { types?: pg.CustomTypesConfig; submit?: unknown } | null;
    // a Submittable (cursor, stream) carries its own protocol handling; leave it as it came
    if (c && typeof c === 'object' && c.types && typeof c.submit !== 'function') config = { ...c, types: layered(c.types) };
    return (query as (...a: unknown[]) => unknown).call(this, config, ...rest);
  } as typeof client.query;
}

export interface PostgresOptions {
  /** connections in the pool (pg's default is 10) */
  max?: number;
  /** an idle connection that failed (the server restarted, the network dropped it); the pool replaces it */
  onError?: (err: Error) => void;
}

/** Connects, applies the committed PostgreSQL migrations (one instance at a time), and returns the database. */
export async function openPostgres(url: string, options: PostgresOptions = {}): Promise<Postgres> {
  const types = new pg.TypeOverrides();
  for (const [oid, parse] of Object.entries(OURS)) types.setTypeParser(Number(oid), parse);
  const pool = new pg.Pool({ connectionString: url, types, max: options.max, application_name: 'loa-xa' });
  // Without a listener an idle client's error is an unhandled 'error' event, which ends the process.
  pool.on('error', options.onError ?? (() => {}));
  pool.on('connect', numbersFromThisPool);
  try {
    await migrateLocked(pool);
  } catch (err) {
    await pool.end().catch(() => {});
    throw err;
  }
  const db = drizzle({ client: pool, schema }) as PgDb;
  return { db, pool, close: () => pool.end() };
}

/**
 * drizzle's migrator takes no lock: it reads the last applied migration outside its transaction, so two instances
 * starting together would both apply the same migration (the second failing on "already exists", or worse on a data
 * migration). A session advisory lock around it, on one dedicated connection that also runs the migrations, makes
 * the second wait and then find nothing to do; the lock goes with the connection if the process dies.
 */
async function migrateLocked(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('select pg_advisory_lock($1, $2)', [LOCK_NAMESPACE, LOCK_MIGRATIONS]);
    try {
      await migrate(drizzle({ client, schema }), { migrationsFolder: MIGRATIONS });
    } finally {
      // A connection that cannot unlock may still hold the lock: destroying it (not returning it to the pool) frees
      // the lock, and the migration's own outcome, not the unlock's, is what the caller learns.
      await client.query('select pg_advisory_unlock($1, $2)', [LOCK_NAMESPACE, LOCK_MIGRATIONS]).catch(() => (broken = true));
    }
  } finally {
    client.release(broken || undefined);
  }
}

/** Throws unless the database answers a trivial query (the health check's probe). */
export async function pingPostgres(db: PgDb): Promise<void> {
  await db.execute(sql`select 1`);
}
