/**
 * A real Icecast 2 (Debian's icecast2, which CI installs) on loopback for live-audio tests, and a feeder that sends
 * the marker programme to a mount as a source client.
 *
 * Quirks, found by running it:
 * - icecast2 refuses to run as root ("You should not run icecast2 as root"). As root we add
 *   `<security><changeowner>` nobody/nogroup and hand the temp dir to nobody, so it can still write its logs.
 * - It runs in the foreground (no -b) so killing the child kills the server; no chroot, no pid file.
 * - burst-size is 65 536 bytes (Icecast's default, ~4 s of 128 kb/s MP3): a new listener gets that at once, which is
 *   the burst the relay's bounded queue turns into "join at the live position".
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ffmpegPath } from '../../server/src/content/ffmpeg.ts';
import { startDaemon } from './daemon.ts';
import { markerInputArgs } from './markers.ts';

export const ICECAST_BIN = '/usr/bin/icecast2';
export const BURST_SIZE = 65_536;

/** Whether the icecast2 binary is here; tests `describe.skipIf(!icecastAvailable())` with a message saying so. */
export const icecastAvailable = (): boolean => existsSync(ICECAST_BIN) && spawnSync(ICECAST_BIN, ['-v']).status === 0;

export interface IcecastServer {
  port: number;
  /** http://127.0.0.1:port */
  base: string;
  sourcePassword: string;
  adminPassword: string;
  dir: string;
  /** pid of the icecast2 process (benchmarks sample its CPU and memory) */
  pid: number;
  /** the mounts that have a source now */
  mounts(): Promise<string[]>;
  /** Icecast's current listeners of a mount, as admin/listclients lists them (status-json.xsl's counts lag) */
  listeners(mount: string): Promise<number>;
  stop(): Promise<void>;
}

/**
 * A free TCP port for a server program to bind, below the kernel's ephemeral range (Linux: 32768–60999). A port the
 * kernel handed out (listen on port 0) is free only until someone else's port-0 socket gets it: with two suites on
 * one box, another test's broker once took it between this check and icecast2's bind. Ports below the range are
 * never handed out by the kernel, so only another caller of this function could race for one, at random.
 */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port in 20000–31999');
}

const config = (o: { port: number; dir: string; source: string; admin: string; asRoot: boolean; clients: number; burst: number; mountsXml: string }) => `<icecast>
  <location>loopback</location><admin>test@localhost</admin><hostname>127.0.0.1</hostname>
  <limits><clients>${o.clients}</clients><sources>10</sources><queue-size>524288</queue-size><client-timeout>30</client-timeout>
    <header-timeout>15</header-timeout><source-timeout>5</source-timeout><burst-on-connect>1</burst-on-connect>
    <burst-size>${o.burst}</burst-size></limits>
  <authentication><source-password>${o.source}</source-password><relay-password>${o.source}</relay-password>
    <admin-user>admin</admin-user><admin-password>${o.admin}</admin-password></authentication>
  <listen-socket><port>${o.port}</port><bind-address>127.0.0.1</bind-address></listen-socket>
  ${o.mountsXml}
  <fileserve>1</fileserve>
  <paths><basedir>/usr/share/icecast2</basedir><logdir>${o.dir}</logdir><webroot>/usr/share/icecast2/web</webroot>
    <adminroot>/usr/share/icecast2/admin</adminroot></paths>
  <logging><accesslog>access.log</accesslog><errorlog>error.log</errorlog><loglevel>3</loglevel></logging>
  <security><chroot>0</chroot>${o.asRoot ? '<changeowner><user>nobody</user><group>nogroup</group></changeowner>' : ''}</security>
</icecast>
`;

/**
 * `clients`: Icecast's listener limit (default 50; bench/live-relay.ts serves 1,000 listeners). `port` and
 * `sourcePassword` when the caller must know them first (a server's LOA_ICECAST_URL); `mountsXml`: <mount> sections;
 * `burstSize`: Icecast's burst-on-connect (default BURST_SIZE).
 */
export async function startIcecast(opts: { clients?: number; port?: number; sourcePassword?: string; mountsXml?: string; burstSize?: number } = {}): Promise<IcecastServer> {
  const dir = mkdtempSync(join(tmpdir(), 'loa-icecast-'));
  const asRoot = process.getuid?.() === 0;
  const o = {
    port: opts.port ?? (await freePort()),
    dir,
    source: opts.sourcePassword ?? randomBytes(9).toString('hex'),
    admin: randomBytes(9).toString('hex'),
    asRoot,
    clients: opts.clients ?? 50,
    burst: opts.burstSize ?? BURST_SIZE,
    mountsXml: opts.mountsXml ?? '',
  };
  writeFileSync(join(dir, 'icecast.xml'), config(o));
  if (asRoot) chownSync(dir, 65534, 65534);
  const base = `http://127.0.0.1:${o.port}`;
  const mounts = async (): Promise<string[]> => {
    const res = await fetch(`${base}/status-json.xsl`);
    // Icecast 2.4 writes a single source as an object, several as an array.
    const json = (await res.json()) as { icestats: { source?: { listenurl: string } | { listenurl: string }[] } };
    const src = json.icestats.source;
    return (Array.isArray(src) ? src : src ? [src] : []).map((s) => new URL(s.listenurl).pathname);
  };
  const adminAuth = { authorization: `Basic ${Buffer.from(`admin:${o.admin}`).toString('base64')}` };
  const listeners = async (mount: string) =>
    (await (await fetch(`${base}/admin/listclients?mount=${encodeURIComponent(mount)}`, { headers: adminAuth })).text()).split('<listener>').length - 1;
  const { child, stop } = await startDaemon({ name: 'icecast2', bin: ICECAST_BIN, args: ['-c', join(dir, 'icecast.xml')], dir, ready: () => mounts().then(() => true) });
  return { port: o.port, base, sourcePassword: o.source, adminPassword: o.admin, dir, pid: child.pid!, mounts, listeners, stop };
}

const CODECS = {
  mp3: ['-c:a', 'libmp3lame', '-b:a', '128k', '-f', 'mp3', '-content_type', 'audio/mpeg'],
  ogg: ['-c:a', 'libopus', '-b:a', '48k', '-f', 'ogg', '-content_type', 'audio/ogg'],
  aac: ['-c:a', 'aac', '-b:a', '96k', '-f', 'adts', '-content_type', 'audio/aac'],
} as const;

export interface IcecastFeed {
  /** server (Date.now) ms when ffmpeg was started: programme t = 0, so marker k was sent at about startedAt + k · everyS */
  startedAt: number;
  /** pid of the feeding ffmpeg */
  pid: number;
  kill(): Promise<void>;
}

/**
 * The marker programme at real time into `mount` (e.g. '/vov1.mp3'); resolves once the mount is live. `encoder`
 * replaces the codec's output arguments (bench/live-relay.ts feeds Ogg/Opus encoded as the server's live streams are).
 */
export async function feedIcecast(server: IcecastServer, mount: string, o: { codec: 'mp3' | 'ogg' | 'aac'; markerEveryS?: number; encoder?: string[] }): Promise<IcecastFeed> {
  const url = `icecast://source:${server.sourcePassword}@127.0.0.1:${server.port}${mount}`;
  const args = ['-hide_banner', '-nostdin', '-v', 'error', '-re', ...markerInputArgs({ everyS: o.markerEveryS }), '-ac', '1', '-ar', '48000', ...(o.encoder ?? CODECS[o.codec]), url];
  const startedAt = Date.now();
  const ff = spawn(ffmpegPath(), args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  ff.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((r) => ff.once('exit', () => r()));
  const kill = async () => {
    if (ff.exitCode === null && ff.signalCode === null) {
      ff.kill('SIGKILL');
      await exited;
    }
  };
  for (let i = 0; !(await server.mounts().catch((): string[] => [])).includes(mount); i++) {
    if (ff.exitCode !== null || i > 100) {
      await kill();
      throw new Error(`feeding ${mount} failed: ${stderr.trim() || 'mount did not appear within 10 s'}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { startedAt, pid: ff.pid!, kill };
}
