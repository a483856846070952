/**
 * The process harness both orchestrators (bench/run.ts, bench/broadcast.ts) stand on: node children under a raised
 * open-files limit, each logging to its own file; every child killed when the orchestrator exits, is signalled,
 * throws or overruns its --max-minutes watchdog; typed request/response over a child's IPC channel; the results file
 * and log directory of a run. The server under test and its fleet are in bench/loa-server.ts.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, freemem, tmpdir, totalmem } from 'node:os';
import { connect, createServer } from 'node:net';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..');
export type Log = (line: string) => void;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** stdout of a command run in the repository, trimmed; null if it fails. */
export function sh(cmd: string, args: string[]): string | null {
  try {
    return execFileSync(cmd, args, { cwd: ROOT }).toString().trim();
  } catch {
    return null;
  }
}

/** Polls fn every everyMs until it returns something truthy; throws after timeoutMs with fn's last error. */
export async function until<T>(what: string, timeoutMs: number, fn: () => Promise<T | null | undefined | false> | T | null | undefined | false, everyMs = 200): Promise<T> {
  const end = Date.now() + timeoutMs;
  let lastErr: unknown = null;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      lastErr = e;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? `: ${String(lastErr)}` : ''}`);
}

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });
}

export function tcpOpen(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      res(true);
    });
    s.once('error', () => res(false));
  });
}

// ---------------------------------------------------------------- children and their cleanup

const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();

export function killAll(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}

/** A fresh directory under the system temp dir, removed by removeTempDir or, at the latest, when this process exits. */
export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}
export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

/**
 * Kills every child spawned here and removes the temp dirs made here when this process exits, is signalled or
 * throws. Call once, at start-up.
 */
export function guardChildren(log: Log): void {
  process.on('exit', () => {
    killAll();
    for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      log(`${sig}: stopping children`);
      killAll();
      process.exit(130);
    });
  }
  process.on('uncaughtException', (e) => {
    log(`uncaught: ${e.stack ?? e}`);
    killAll();
    process.exit(1);
  });
}

/** After `minutes`, kills every child and exits with `exitCode`. Clear the returned timer when the run is done. */
export function startWatchdog(minutes: number, exitCode: number, log: Log): NodeJS.Timeout {
  const t = setTimeout(() => {
    log(`--max-minutes ${minutes} reached: stopping children`);
    killAll();
    process.exit(exitCode);
  }, minutes * 60_000);
  t.unref();
  return t;
}

/** Runs the orchestrator's main, exits 0 when it resolves; on a rejection logs it, kills the children, exits 1. */
export function runMain(main: () => Promise<void>, log: Log): void {
  main().then(
    () => process.exit(0),
    (e) => {
      log(`failed: ${e?.stack ?? e}`);
      killAll();
      process.exit(1);
    },
  );
}

/** node <args> under bash with the open-files limit raised to the hard limit; exec keeps the pid. cwd is the repo. */
export function spawnNode(nodeArgs: string[], env: NodeJS.ProcessEnv, logFile: string, ipc = false): ChildProcess {
  const cmd = `ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec ${shq(process.execPath)} ${nodeArgs.map(shq).join(' ')}`;
  const child = spawn('bash', ['-c', cmd], { cwd: ROOT, env, stdio: ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'] });
  const out = createWriteStream(logFile);
  child.stdout!.pipe(out, { end: false });
  child.stderr!.pipe(out, { end: false });
  children.add(child);
  child.on('exit', () => {
    children.delete(child);
    setTimeout(() => out.end(), 100);
  });
  return child;
}

/** A promise that rejects when the child exits (never resolves); race it against what needs the child alive. */
export function exitRejection(c: ChildProcess, name: string, logFile: string): Promise<never> {
  const p = new Promise<never>((_, rej) => c.once('exit', (code, sig) => rej(new Error(`${name} exited (code ${code}, signal ${sig}); see ${logFile}`))));
  p.catch(() => {});
  return p;
}

export function waitExit(c: ChildProcess, ms: number): Promise<boolean> {
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve(true);
  return new Promise((res) => {
    const t = setTimeout(() => res(false), ms);
    c.once('exit', () => {
      clearTimeout(t);
      res(true);
    });
  });
}

/** SIGTERM, then SIGKILL after graceMs. */
export async function stopChild(c: ChildProcess | null, graceMs: number): Promise<void> {
  if (!c || c.exitCode !== null || c.signalCode !== null) return;
  c.kill('SIGTERM');
  if (!(await waitExit(c, graceMs))) {
    c.kill('SIGKILL');
    await waitExit(c, 5000);
  }
}

// ---------------------------------------------------------------- IPC

/**
 * Typed request/response over a child's IPC channel: In = what the child sends, Out = what it is sent. A wait is
 * answered by the next message of its type, rejects after its timeout or when the child exits; the latest message
 * of each type is kept (progress reports); `{type:'error'}` messages are logged.
 */
export class Ipc<In extends { type: string }, Out extends { type: string }> {
  private waiters: { type: string; resolve: (m: In) => void }[] = [];
  private last = new Map<string, In>();
  constructor(readonly child: ChildProcess, readonly name: string, log: Log) {
    child.on('message', (m: In) => {
      this.last.set(m.type, m);
      if (m.type === 'error') log(`${name} error: ${(m as unknown as { message: string }).message}`);
      const i = this.waiters.findIndex((w) => w.type === m.type);
      if (i >= 0) this.waiters.splice(i, 1)[0].resolve(m);
    });
  }
  send(m: Out): void {
    this.child.send(m);
  }
  latest<T extends In['type']>(type: T): Extract<In, { type: T }> | undefined {
    return this.last.get(type) as Extract<In, { type: T }> | undefined;
  }
  wait<T extends In['type']>(type: T, timeoutMs: number): Promise<Extract<In, { type: T }>> {
    return new Promise((resolve, reject) => {
      const waiter = {
        type,
        resolve: (m: In) => {
          done();
          resolve(m as Extract<In, { type: T }>);
        },
      };
      // a waiter that timed out or outlived its child leaves the queue, so it cannot take a later answer
      const done = () => {
        clearTimeout(t);
        this.child.off('exit', onExit);
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
      };
      const onExit = () => {
        done();
        reject(new Error(`${this.name} exited while waiting for '${type}'`));
      };
      const t = setTimeout(() => {
        done();
        reject(new Error(`${this.name}: no '${type}' within ${timeoutMs} ms`));
      }, timeoutMs);
      this.child.once('exit', onExit);
      this.waiters.push(waiter);
    });
  }
  /** wait armed before the send, so an answer that comes at once is not missed */
  request<T extends In['type']>(m: Out, type: T, timeoutMs: number): Promise<Extract<In, { type: T }>> {
    const p = this.wait(type, timeoutMs);
    this.send(m);
    return p;
  }
}

// ---------------------------------------------------------------- results

/**
 * bench/results/<prefix><timestamp>.json (or --out) and the run's log directory <prefix><timestamp>-logs/.
 * save() rewrites the whole file, so it can be called after every run and a crash keeps what was measured.
 */
export function resultsFiles(prefix: string, outOption: string | null): { logDir: string; out: string; save: (doc: unknown) => void } {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const resultsDir = join(ROOT, 'bench', 'results');
  const logDir = join(resultsDir, `${prefix}${stamp}-logs`);
  mkdirSync(logDir, { recursive: true });
  const out = outOption ? resolve(outOption) : join(resultsDir, `${prefix}${stamp}.json`);
  return { logDir, out, save: (doc) => writeFileSync(out, JSON.stringify(doc, null, 2)) };
}

/**
 * What a results file records of the machine and the code measured: cores, memory, Node, open-file limit, load, the
 * bench's commit and the server's (`serverRef` 'worktree' = the commit plus the working tree). `extra`: versions of
 * what the bench drives.
 */
export function machineInfo(serverRef: string, extra: Record<string, unknown> = {}) {
  const commit = sh('git', ['rev-parse', '--short', 'HEAD']);
  return {
    date: new Date().toISOString(),
    nproc: cpus().length,
    cpuModel: cpus()[0]?.model,
    memTotalGb: +(totalmem() / 2 ** 30).toFixed(1),
    memFreeGb: +(freemem() / 2 ** 30).toFixed(1),
    node: process.version,
    ...extra,
    ulimitN: sh('bash', ['-c', 'ulimit -Hn']),
    loadavg: sh('cat', ['/proc/loadavg']),
    commit,
    serverRef,
    serverCommit: serverRef === 'worktree' ? `${commit} + working tree` : sh('git', ['rev-parse', '--short', serverRef]),
  };
}
