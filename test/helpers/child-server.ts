import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_PASSWORD, waitFor, type TestServer } from './server.ts';

/**
 * The server (and the fleet CLI) as processes of their own on one data dir, for tests that kill them with SIGKILL
 * and start them again on the same ports — what `npm start` does, with nothing in the test's process to hide it.
 */
export interface Proc {
  child: ChildProcess;
  out(): string;
  exited: Promise<number | null>;
}

export interface ChildServer extends Proc {
  httpPort: number;
  mqttPort: number;
}

const root = new URL('../..', import.meta.url).pathname;

export function childProcesses(prefix: string) {
  const dataDir = mkdtempSync(join(tmpdir(), prefix));
  const children = new Set<ChildProcess>();

  function run(args: string[], env: Record<string, string> = {}): Proc {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let out = '';
    child.stdout!.on('data', (b) => (out += b));
    child.stderr!.on('data', (b) => (out += b));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => (children.delete(child), r(code))));
    return { child, out: () => out, exited };
  }

  /** Port 0 picks free ones; a restart passes the ports it had, as a restarted server keeps its configuration. */
  async function startServer(httpPort: number, mqttPort: number, demo = false, env: Record<string, string> = {}): Promise<ChildServer> {
    const p = run(['server/src/main.ts'], {
      LOA_DATA_DIR: dataDir,
      LOA_DB_FILE: '',
      LOA_HTTP_HOST: '127.0.0.1',
      LOA_HTTP_PORT: String(httpPort),
      LOA_MQTT_HOST: '127.0.0.1',
      LOA_MQTT_PORT: String(mqttPort),
      LOA_MQTT_TLS_PORT: '0',
      LOA_MQTT_TLS_CERT: '',
      LOA_MQTT_TLS_KEY: '',
      LOA_ADMIN_PASSWORD: ADMIN_PASSWORD,
      LOA_LOG_LEVEL: 'info',
      LOA_DEMO: demo ? '1' : '0',
      ...env,
    });
    const mqtt = await waitFor(() => /"mqttPort":(\d+)[^\n]*MQTT broker listening/.exec(p.out()) ?? (p.child.exitCode !== null ? fail(p) : null), 30_000, 50);
    const http = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(p.out())!;
    return { ...p, httpPort: Number(http[1]), mqttPort: Number(mqtt[1]) };
  }

  async function kill(p: Proc): Promise<void> {
    p.child.kill('SIGKILL');
    await p.exited;
  }

  /** Every process still running is killed, then the data dir removed (afterAll). */
  async function cleanUp(): Promise<void> {
    await Promise.all([...children].map((c) => new Promise((r) => (c.once('exit', r), c.kill('SIGKILL')))));
    rmSync(dataDir, { recursive: true, force: true });
  }

  return { dataDir, children, run, startServer, kill, cleanUp };
}

export function fail(p: Proc): never {
  throw new Error(`process exited ${p.child.exitCode}:\n${p.out().slice(-2000)}`);
}

/** The admin's API on a server in another process: only what uploadTone and these tests use of TestServer. */
export async function signIn(s: ChildServer): Promise<TestServer> {
  const httpUrl = `http://127.0.0.1:${s.httpPort}`;
  const login = await fetch(`${httpUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }) });
  const { token } = (await login.json()) as { token: string };
  const api = async (method: string, url: string, body?: unknown) => {
    const res = await fetch(httpUrl + url, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
    const text = await res.text();
    let parsed: any = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* not JSON (a 204) */
    }
    return { status: res.status, body: parsed };
  };
  return { httpUrl, token, api } as unknown as TestServer;
}
