/**
 * Loopback HTTP upstreams that misbehave the ways real radio links do, for failover tests: a 404, garbage bytes
 * labelled audio/mpeg, a stream that plays a few seconds then hangs without closing, and a live MP3 stream that can be
 * killed and brought back on the same port.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { ffmpegPath } from '../../server/src/content/ffmpeg.ts';
import { markerInputArgs } from './markers.ts';

export interface Upstream {
  url: string;
  close(): Promise<void>;
}

async function serve(handler: (res: ServerResponse) => void, port = 0): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createServer((_req, res) => handler(res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const close = async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  };
  return { server, port: (server.address() as { port: number }).port, close };
}

const timers = (res: ServerResponse, ...t: NodeJS.Timeout[]) => res.on('close', () => t.forEach(clearInterval));

export async function notFound(): Promise<Upstream> {
  const s = await serve((res) => res.writeHead(404, { 'content-type': 'text/plain' }).end('no such mount'));
  return { url: `http://127.0.0.1:${s.port}/vov1.mp3`, close: s.close };
}

/**
 * Random bytes as audio/mpeg at about 16 kB/s, for ever, at a mount without an extension: ffmpeg then probes and
 * says "Invalid data" within a second or so. Behind a URL ending in .mp3 its MP3 demuxer is chosen by the extension and
 * skips garbage in silence, which the ingest can only report as `stalled` after stallS.
 */
export async function garbage(): Promise<Upstream> {
  const s = await serve((res) => {
    res.writeHead(200, { 'content-type': 'audio/mpeg' });
    timers(res, setInterval(() => res.write(randomBytes(1600)), 100));
  });
  return { url: `http://127.0.0.1:${s.port}/vov1`, close: s.close };
}

/** `seconds` of 64 kb/s MP3 of the marker programme. */
export function markerMp3(seconds: number): Buffer {
  const run = spawnSync(ffmpegPath(), ['-v', 'error', ...markerInputArgs({ durationS: seconds }), '-ac', '1', '-c:a', 'libmp3lame', '-b:a', '64k', '-f', 'mp3', 'pipe:1'], { maxBuffer: 1 << 26 });
  if (run.status !== 0) throw new Error(`markerMp3: ${run.stderr.toString()}`);
  return run.stdout;
}

/** Plays `seconds` of valid MP3 at real time, then sends nothing more and keeps the connection open. */
export async function stalling(seconds = 3): Promise<Upstream> {
  const mp3 = markerMp3(seconds);
  const s = await serve((res) => {
    res.writeHead(200, { 'content-type': 'audio/mpeg' });
    const step = Math.ceil(mp3.length / (seconds * 10));
    let at = 0;
    const t = setInterval(() => {
      if (at < mp3.length) res.write(mp3.subarray(at, (at += step)));
    }, 100);
    timers(res, t);
  });
  return { url: `http://127.0.0.1:${s.port}/vov1.mp3`, close: s.close };
}

export interface Controllable extends Upstream {
  /** drops every listener and stops listening (connection refused from now on) */
  kill(): Promise<void>;
  /** listens again on the same port with a fresh live stream */
  restart(): Promise<void>;
  readonly up: boolean;
}

/** A live MP3 stream of the marker programme (one ffmpeg at real time, its output copied to every listener). */
export async function controllable(o: { markerEveryS?: number } = {}): Promise<Controllable> {
  let ff: ChildProcess | null = null;
  const listeners = new Set<ServerResponse>();
  const startEncoder = () => {
    const child = spawn(ffmpegPath(), ['-hide_banner', '-nostdin', '-v', 'error', '-re', ...markerInputArgs({ everyS: o.markerEveryS }), '-ac', '1', '-c:a', 'libmp3lame', '-b:a', '64k', '-f', 'mp3', 'pipe:1'], { stdio: ['ignore', 'pipe', 'ignore'] });
    child.stdout!.on('data', (d: Buffer) => listeners.forEach((res) => res.write(d)));
    ff = child;
  };
  const stopEncoder = async () => {
    const child = ff;
    ff = null;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    }
  };
  const handler = (res: ServerResponse) => {
    res.writeHead(200, { 'content-type': 'audio/mpeg' });
    listeners.add(res);
    res.on('close', () => listeners.delete(res));
  };
  startEncoder();
  let s: Awaited<ReturnType<typeof serve>> | null = await serve(handler);
  const port = s.port;
  const kill = async () => {
    listeners.clear();
    await s?.close();
    s = null;
    await stopEncoder();
  };
  return {
    url: `http://127.0.0.1:${port}/live.mp3`,
    kill,
    close: kill,
    restart: async () => {
      if (s) return;
      startEncoder();
      s = await serve(handler, port);
    },
    get up() {
      return s !== null;
    },
  };
}
