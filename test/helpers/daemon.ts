/**
 * A Debian server program run in the foreground for a test (icecast2, mosquitto): its stderr kept, started until a
 * probe says it answers, stopped with SIGTERM (SIGKILL after 3 s) and its temp dir removed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { connect } from 'node:net';

export interface Daemon {
  child: ChildProcess;
  stderr(): string;
  stop(): Promise<void>;
}

/** Whether something accepts TCP connections on the port: a server program is up once it listens. */
export function listening(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

export async function startDaemon(o: { name: string; bin: string; args: string[]; dir: string; ready: () => Promise<boolean>; timeoutMs?: number }): Promise<Daemon> {
  const child: ChildProcess = spawn(o.bin, o.args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    }
    rmSync(o.dir, { recursive: true, force: true });
  };
  const timeoutMs = o.timeoutMs ?? 30_000;
  // A probe that hangs (the port answered by something else that never replies, a server too busy to) counts as a
  // no, so the loop still sees the program exit or the time run out.
  const probe = () => Promise.race([o.ready().catch(() => false), new Promise<boolean>((r) => setTimeout(() => r(false), 5000).unref())]);
  for (const t0 = Date.now(); !(await probe()); ) {
    if (child.exitCode !== null) throw new Error(`${o.name} exited (${child.exitCode}): ${stderr.trim()}`);
    if (Date.now() - t0 > timeoutMs) {
      await stop();
      throw new Error(`${o.name} did not answer within ${timeoutMs / 1000} s: ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, stderr: () => stderr, stop };
}
