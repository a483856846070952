/**
 * A throwaway PostgreSQL (Debian's postgresql, which CI installs) on loopback for one test file, for the
 * LOA_DB_URL=postgres://… tests (issue 13). Each test takes a fresh database of it (`createDatabase`), so tests
 * stay independent without a server each.
 *
 * Quirks, found by running it:
 * - initdb and postgres refuse to run as root. As root both run as the `postgres` system user (`nobody` when the
 *   package did not create one): initdb through spawn's uid/gid, the server through `setpriv`, which execs
 *   (runuser and su fork a watching parent that SIGKILLs the server 2 s after passing on a signal).
 * - SIGTERM is PostgreSQL's "smart" shutdown, which waits for every client to disconnect; stop() sends SIGINT
 *   ("fast": open sessions are ended) first, so a test that left a pool open does not stall the teardown.
 * - A TCP listener is not yet a server that accepts sessions ("the database system is starting up"), so readiness
 *   is a real `select 1`.
 * - The temp dir holds the data dir, the unix socket dir and, after a failed start, postgres.log; startDaemon is
 *   given only the socket dir to remove, so a failure keeps the data dir to look at.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startDaemon } from './daemon.ts';
import { freePort } from './icecast.ts';

/** The newest installed PostgreSQL's bin dir (Debian installs each major version side by side), or null. */
export function postgresBinDir(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => /^\d+$/.test(v) && ['initdb', 'postgres'].every((b) => existsSync(join(root, v, 'bin', b))))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(root, versions[0], 'bin') : null;
}

/** Whether a PostgreSQL server can be started here; tests `describe.skipIf(!postgresAvailable())` with a message. */
export const postgresAvailable = (): boolean => postgresBinDir() !== null && (process.getuid?.() !== 0 || existsSync('/usr/bin/setpriv'));

export interface PostgresServer {
  port: number;
  /** the maintenance database `postgres`, as the superuser */
  url: string;
  /** Creates an empty database and returns its URL (superuser credentials). */
  createDatabase(name: string): Promise<string>;
  /** what the server wrote on stderr so far (its log) */
  log(): string;
  /** Stops the server (fast shutdown) and removes the temp dir. */
  stop(): Promise<void>;
}

const SUPERUSER = 'postgres';

/** Settings for a server whose data is thrown away: durability off, nothing running in the background. */
const TEST_SETTINGS: Record<string, string> = {
  fsync: 'off',
  synchronous_commit: 'off',
  full_page_writes: 'off',
  wal_level: 'minimal',
  max_wal_senders: '0',
  autovacuum: 'off',
  jit: 'off',
  shared_buffers: '32MB',
  max_connections: '200',
  huge_pages: 'off',
  listen_addresses: '127.0.0.1',
  log_min_messages: 'warning',
  log_line_prefix: '%m [%p] ',
};

const idOf = (user: string): { uid: number; gid: number } | null => {
  const u = spawnSync('id', ['-u', user], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', user], { encoding: 'utf8' });
  return u.status === 0 && g.status === 0 ? { uid: Number(u.stdout.trim()), gid: Number(g.stdout.trim()) } : null;
};

export async function startPostgres(): Promise<PostgresServer> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('no PostgreSQL under /usr/lib/postgresql/*/bin (apt-get install postgresql)');
  const dir = mkdtempSync(join(tmpdir(), 'loa-pg-'));
  const data = join(dir, 'data');
  const sock = join(dir, 'sock');
  mkdirSync(sock);
  const password = randomBytes(12).toString('hex');
  const pwfile = join(dir, 'pwfile');
  writeFileSync(pwfile, password + '\n', { mode: 0o600 });
  const as = process.getuid?.() === 0 ? (idOf('postgres') ?? idOf('nobody')) : null;
  if (as) for (const f of [dir, sock, pwfile]) chownSync(f, as.uid, as.gid);

  const fail = (what: string, log: string): never => {
    writeFileSync(join(dir, 'postgres.log'), log);
    console.error(`${what}; data dir kept at ${data}, log at ${join(dir, 'postgres.log')}:\n${log}`);
    throw new Error(`${what} (data dir kept at ${data}): ${log.trim().split('\n').slice(-5).join(' | ')}`);
  };

  const init = spawnSync(
    join(bin, 'initdb'),
    ['-D', data, '-U', SUPERUSER, `--pwfile=${pwfile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions'],
    { encoding: 'utf8', ...(as ?? {}), env: { ...process.env, LC_ALL: 'C' } },
  );
  if (init.status !== 0) fail(`initdb failed (${init.status ?? init.error?.message})`, `${init.stdout ?? ''}${init.stderr ?? ''}`);
  rmSync(pwfile);

  const port = await freePort();
  const args = ['-D', data, '-p', String(port), '-k', sock, ...Object.entries(TEST_SETTINGS).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
  const url = (db: string) => `postgres://${SUPERUSER}:${password}@127.0.0.1:${port}/${db}`;
  const ready = async () => {
    const c = new pg.Client({ connectionString: url('postgres'), connectionTimeoutMillis: 2000 });
    c.on('error', () => {});
    try {
      await c.connect();
      await c.query('select 1');
      return true;
    } finally {
      await c.end().catch(() => {});
    }
  };
  let daemon: Awaited<ReturnType<typeof startDaemon>>;
  try {
    daemon = await startDaemon({
      name: 'postgres',
      bin: as ? '/usr/bin/setpriv' : join(bin, 'postgres'),
      args: as ? [`--reuid=${as.uid}`, `--regid=${as.gid}`, '--clear-groups', '--', join(bin, 'postgres'), ...args] : args,
      dir: sock,
      ready,
    });
  } catch (err) {
    return fail('postgres did not start', (err as Error).message);
  }

  const stop = async () => {
    const { child } = daemon;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGINT');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000).unref())]);
    }
    await daemon.stop();
    rmSync(dir, { recursive: true, force: true });
  };

  const createDatabase = (name: string): Promise<string> => createDatabaseAt(url('postgres'), name);

  return { port, url: url('postgres'), createDatabase, log: daemon.stderr, stop };
}

/** Creates an empty database on the server `adminUrl` names (its maintenance database) and returns its URL. */
export async function createDatabaseAt(adminUrl: string, name: string): Promise<string> {
  // the name goes into SQL as an identifier: keep it to what needs no quoting rules
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`database name ${JSON.stringify(name)}: use [a-z0-9_], starting with a letter or _`);
  await adminQuery(adminUrl, `create database "${name}"`);
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Drops a database made by createDatabaseAt, ending its sessions (a test's server may have left some). */
export async function dropDatabaseAt(adminUrl: string, name: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`database name ${JSON.stringify(name)}`);
  await adminQuery(adminUrl, `drop database if exists "${name}" with (force)`);
}

async function adminQuery(adminUrl: string, text: string): Promise<void> {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    await c.query(text);
  } finally {
    await c.end();
  }
}
