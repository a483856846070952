import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../server/src/app.ts';
import { loadConfig, type Config } from '../../server/src/config.ts';
import type { Clock } from '../../server/src/shared/clock.ts';
import { ExternalLink } from '../../server/src/mqtt/external-link.ts';
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { startMosquitto, type MosquittoServer } from './mosquitto.ts';
import { createDatabaseAt, dropDatabaseAt } from './postgres.ts';

/**
 * The engines test servers run on. Default: the embedded aedes broker and a SQLite file. The second configuration
 * (issue 13; vitest.config.ts project "mosquitto+postgres") sets LOA_TEST_BROKER=mosquitto and LOA_TEST_DB=postgres:
 * each test server then gets its own Mosquitto 2 with dynamic security (devices connect there) and a fresh database
 * on the run's PostgreSQL (test/setup/postgres.global.ts). A test that names its own broker or database keeps it.
 */
export const ENGINES = {
  broker: process.env.LOA_TEST_BROKER === 'mosquitto' ? 'mosquitto' : 'embedded',
  db: process.env.LOA_TEST_DB === 'postgres' ? 'postgres' : 'sqlite',
} as const;
let servers = 0;

export const ADMIN_PASSWORD = 'test-admin-password-1';

export interface TestServer {
  app: FastifyInstance;
  config: Config;
  httpUrl: string;
  mqttUrl: string;
  mqttPort: number;
  dataDir: string;
  token: string;
  /** authorised request helper (admin) */
  api<T = any>(method: string, url: string, body?: unknown, token?: string): Promise<{ status: number; body: T }>;
  close(): Promise<void>;
}

/** A real server: SQLite file in a temp dir, HTTP and MQTT on random loopback ports, an admin signed in. */
export async function startServer(env: Record<string, string> = {}, opts: { clock?: Clock; listenHttp?: boolean } = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'loa-test-'));
  const engines: Record<string, string> = {};
  const cleanups: (() => Promise<void>)[] = [];
  const n = ++servers;
  if (ENGINES.db === 'postgres' && !env.LOA_DB_URL && !env.LOA_DB_FILE) {
    const admin = inject('postgresAdminUrl');
    const name = `t${process.pid}_${n}_${randomBytes(3).toString('hex')}`;
    engines.LOA_DB_URL = await createDatabaseAt(admin, name);
    cleanups.push(() => dropDatabaseAt(admin, name));
  }
  let broker: MosquittoServer | undefined;
  if (ENGINES.broker === 'mosquitto' && !env.LOA_MQTT_URL) {
    const b = (broker = await startMosquitto());
    Object.assign(engines, { LOA_MQTT_URL: b.url, LOA_MQTT_USERNAME: b.adminUser, LOA_MQTT_PASSWORD: b.adminPassword, LOA_MQTT_CLIENT_ID: `loa-test-${process.pid}-${n}` });
    cleanups.push(() => b.stop());
  }
  const config = loadConfig({
    ...engines,
    LOA_DATA_DIR: dataDir,
    LOA_HTTP_HOST: '127.0.0.1',
    LOA_HTTP_PORT: '0',
    LOA_MQTT_HOST: '127.0.0.1',
    LOA_MQTT_PORT: '0',
    LOA_MQTT_TLS_PORT: '0',
    LOA_ADMIN_PASSWORD: ADMIN_PASSWORD,
    LOA_LOG_LEVEL: 'silent',
    ...env,
  });
  const app = await buildApp({ config, logger: env.LOA_LOG_LEVEL === 'error' ? { level: 'error' } : false, clock: opts.clock });
  await app.ready();
  let httpUrl = '';
  if (opts.listenHttp !== false) {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const addr = app.server.address();
    httpUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  }
  const { port } = await app.loa.startMqtt();
  const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'admin', password: ADMIN_PASSWORD } });
  if (login.statusCode !== 200) throw new Error('admin login failed: ' + login.body);
  const token = login.json().token as string;
  const api = async (method: string, url: string, body?: unknown, tok = token) => {
    const res = await app.inject({ method: method as any, url, payload: body as any, headers: tok ? { authorization: `Bearer ${tok}` } : {} });
    let parsed: any = res.body;
    try {
      parsed = res.json();
    } catch {
      /* not JSON */
    }
    return { status: res.statusCode, body: parsed };
  };
  return {
    app,
    config,
    httpUrl,
    mqttUrl: broker ? broker.url : `mqtt://127.0.0.1:${port}`,
    mqttPort: broker ? Number(new URL(broker.url).port) : port,
    dataDir,
    token,
    api,
    async close() {
      await app.close();
      for (const c of cleanups.reverse()) await c();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Creates an area tree and clusters through the API; returns their credentials. */
export async function provision(srv: TestServer, n: number, areaId = 'test-commune'): Promise<{ id: string; secret: string }[]> {
  const areas = await srv.api('GET', '/api/areas');
  if (!areas.body.some((a: any) => a.id === 'test-province')) {
    await srv.api('POST', '/api/areas', { id: 'test-province', name: 'Tỉnh Thử', kind: 'province' });
  }
  if (!areas.body.some((a: any) => a.id === areaId)) {
    const r = await srv.api('POST', '/api/areas', { id: areaId, name: `Xã ${areaId}`, kind: 'commune', parentId: 'test-province' });
    if (r.status !== 201) throw new Error('area create failed: ' + JSON.stringify(r.body));
  }
  const clusters = Array.from({ length: n }, (_, i) => ({
    name: `Cụm ${areaId} ${i + 1}`,
    areaId,
    serial: `SER-${areaId}-${i + 1}-${Math.random().toString(36).slice(2, 8)}`,
    outputs: [0, 1, 2, 3].map((index) => ({ index, label: `Loa ${index + 1}`, ratedW: 50 })),
  }));
  const res = await srv.api('POST', '/api/clusters/import', clusters);
  if (res.status !== 201) throw new Error('import failed: ' + JSON.stringify(res.body));
  const issued: { id: string; secret: string }[] = res.body.credentials.map((c: any) => ({ id: c.clusterId, secret: c.secret }));
  await brokerKnows(srv, issued.map((c) => c.id));
  return issued;
}

/**
 * On an external broker a new cluster's account reaches it asynchronously (the credential_issued event): a device
 * that connects before that is refused. Resolves once the broker holds every one of `ids`.
 */
export async function brokerKnows(srv: TestServer, ids: string[]): Promise<void> {
  const link = srv.app?.loa.link; // a server in another process (child-server.ts) has no app here: its devices retry
  if (!(link instanceof ExternalLink) || srv.config.LOA_MQTT_ACCOUNTS !== 'dynsec') return;
  for (const id of ids) await waitFor(async () => !(await link.dynsec.run([{ command: 'getClient', username: id }]))[0].error, 30_000, 50);
}

/** A raw MQTT client; resolves once connected, rejects with the CONNACK error. */
export function connectRaw(url: string, opts: IClientOptions): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...opts });
    c.once('connect', () => resolve(c));
    c.once('error', (err) => {
      c.end(true);
      reject(err);
    });
    c.once('close', () => reject(new Error('closed before connect')));
  });
}

export async function waitFor<T>(fn: () => T | Promise<T>, timeoutMs = 10_000, intervalMs = 25): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`waitFor timed out after ${timeoutMs} ms${last ? ': ' + String(last) : ''}`);
}
