/**
 * The Loa Xã server under test, for both orchestrators (bench/run.ts, bench/broadcast.ts): the code to run (a
 * `git archive` of a ref, or the working tree), the server child with a fresh data dir and its own ports, the HTTP
 * API, and the fleet provisioned through it (one province, areas below it, every cluster in one import call).
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ROOT, exitRejection, freePort, makeTempDir, removeTempDir, shq, spawnNode, stopChild, tcpOpen, until } from './harness.ts';

/**
 * The server code to run: a `git archive` of `ref` in a temp dir (node_modules linked), removed when this process
 * exits (harness guardChildren), so edits in progress in the working tree neither break nor silently change a run; 'worktree' runs the
 * working tree as it is. (bench/profile.ts maps the `loa-bench-server-*` prefix back onto the repository.)
 */
export function serverFromRef(ref: string): string {
  if (ref === 'worktree') return ROOT;
  const dir = makeTempDir('loa-bench-server-');
  execFileSync('bash', ['-c', `git -C ${shq(ROOT)} archive ${shq(ref)} | tar -x -C ${shq(dir)}`]);
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

/** This process's environment without LOA_* settings, so the developer's own configuration does not leak in. */
export function benchEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LOA_')));
}

export interface LoaServerOptions {
  /** from serverFromRef() */
  serverDir: string;
  logFile: string;
  /** the child's name in errors ('target', 'server') */
  name: string;
  /** prefix of the temporary data dir */
  dataDirPrefix: string;
  /** node flags before `--import tsx` (heap cap, --cpu-prof …) */
  nodeArgs?: string[];
  /** node flags after `--import tsx`, e.g. a preload that needs tsx */
  preload?: string[];
  /** further LOA_* settings */
  env?: Record<string, string>;
}

export interface LoaServer {
  child: ChildProcess;
  /** rejects when the server exits: race it against whatever needs the server alive */
  exited: Promise<never>;
  base: string;
  mqttPort: number;
  password: string;
  dataDir: string;
  /** SIGTERM (SIGKILL after graceMs), then the data dir removed */
  stop(graceMs: number): Promise<void>;
}

/**
 * node --import tsx server/src/main.ts on 127.0.0.1 with free HTTP and MQTT ports, a fresh LOA_DATA_DIR, a random
 * admin password and LOA_LOG_LEVEL=warn; resolves once MQTT accepts a connection and /healthz answers (60 s).
 */
export async function startLoaServer(o: LoaServerOptions): Promise<LoaServer> {
  const dataDir = makeTempDir(o.dataDirPrefix);
  const mqttPort = await freePort();
  const httpPort = await freePort();
  const password = 'bench-' + randomBytes(9).toString('base64url');
  const base = `http://127.0.0.1:${httpPort}`;
  const child = spawnNode([...(o.nodeArgs ?? []), '--import', 'tsx', ...(o.preload ?? []), join(o.serverDir, 'server/src/main.ts')], {
    ...benchEnv(),
    LOA_HTTP_HOST: '127.0.0.1',
    LOA_HTTP_PORT: String(httpPort),
    LOA_MQTT_HOST: '127.0.0.1',
    LOA_MQTT_PORT: String(mqttPort),
    LOA_DATA_DIR: dataDir,
    LOA_ADMIN_PASSWORD: password,
    LOA_LOG_LEVEL: 'warn',
    ...o.env,
  }, o.logFile);
  const exited = exitRejection(child, o.name, o.logFile);
  const stop = async (graceMs: number) => {
    await stopChild(child, graceMs);
    removeTempDir(dataDir);
  };
  try {
    await Promise.race([exited, until(`${o.name} to listen`, 60_000, async () => (await tcpOpen(mqttPort)) && (await fetch(base + '/healthz')).ok)]);
  } catch (e) {
    await stop(5000);
    throw e;
  }
  return { child, exited, base, mqttPort, password, dataDir, stop };
}

export async function api<T>(base: string, method: string, path: string, token: string | null, body?: unknown): Promise<T> {
  const res = await fetch(base + path, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status}: ${text.slice(0, 300)}`);
  return (text ? JSON.parse(text) : null) as T;
}

// ---------------------------------------------------------------- the fleet

export const PROVINCE = 'bench-p';
export const memberId = (i: number) => `bench-${String(i).padStart(5, '0')}`;

/** One level of areas below the province: the id of cluster i's area at this level. */
export interface AreaLevel {
  kind: 'commune' | 'hamlet';
  idOf: (i: number) => string;
}
const LABEL = { commune: 'Xã', hamlet: 'Thôn' } as const;

export interface Provisioned {
  token: string;
  members: { id: string; secret: string }[];
  /** area ids per level, in the order they were created */
  areaIds: string[][];
  areasMs: number;
  importMs: number;
}

/**
 * Logs in as admin, creates the province and then each level of `levels` (outermost first, 8 requests in flight; an
 * area's parent is the enclosing level's area of its first cluster), and imports clusters bench-00000 … in one
 * `POST /api/clusters/import`, each in its innermost area with two speaker outputs. Times the areas and the import.
 */
export async function provisionFleet(base: string, password: string, n: number, levels: AreaLevel[]): Promise<Provisioned> {
  const { token } = await api<{ token: string }>(base, 'POST', '/api/auth/login', null, { username: 'admin', password });
  const t0 = Date.now();
  await api(base, 'POST', '/api/areas', token, { id: PROVINCE, name: 'Tỉnh Bench', kind: 'province', parentId: null });
  const areaIds: string[][] = [];
  for (const [k, level] of levels.entries()) {
    const parentOf = new Map<string, string>();
    for (let i = 0; i < n; i++) {
      const id = level.idOf(i);
      if (!parentOf.has(id)) parentOf.set(id, k === 0 ? PROVINCE : levels[k - 1].idOf(i));
    }
    const todo = [...parentOf];
    let next = 0;
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (next < todo.length) {
        const [id, parentId] = todo[next++];
        await api(base, 'POST', '/api/areas', token, { id, name: `${LABEL[level.kind]} ${id}`, kind: level.kind, parentId });
      }
    }));
    areaIds.push(todo.map(([id]) => id));
  }
  const areasMs = Date.now() - t0;
  const inner = levels[levels.length - 1];
  const rows = Array.from({ length: n }, (_, i) => ({
    id: memberId(i),
    name: `Cụm loa ${i}`,
    areaId: inner ? inner.idOf(i) : PROVINCE,
    serial: `SN-${memberId(i)}`,
    outputs: [
      { index: 0, label: 'Loa 1' },
      { index: 1, label: 'Loa 2' },
    ],
  }));
  const t1 = Date.now();
  const res = await api<{ credentials: { clusterId: string; secret: string }[] }>(base, 'POST', '/api/clusters/import', token, rows);
  const importMs = Date.now() - t1;
  const secretOf = new Map(res.credentials.map((c) => [c.clusterId, c.secret]));
  const members = rows.map((r) => ({ id: r.id, secret: secretOf.get(r.id)! }));
  if (members.some((m) => !m.secret)) throw new Error('import did not return a secret for every cluster');
  return { token, members, areaIds, areasMs, importMs };
}
