/**
 * Live-audio bench (issue 12): one relay to N simulated clusters on this machine, three ways in one run.
 *
 *   npm run bench -- live-relay                                  # 1,000 clusters, direct + icecast + alone, 60 s each
 *   npm run bench -- live-relay --clusters 100 --airing-s 20     # smoke run
 *   npm run bench -- live-relay --help
 *
 * Upstream (shared by the modes that relay): a real icecast2 on loopback fed by ffmpeg with the marker programme of
 * test/helpers/markers.ts (a 220 Hz bed, a 2 kHz burst every --marker-every-s from t = 0) as 128 kbit/s MP3 — the
 * station. Modes:
 *  - direct:  the Loa server (child process, fresh data dir, N provisioned clusters) relays it (RelayChain → one
 *             Ogg/Opus LiveStream) and serves every cluster itself at GET /api/device/live/r-<id>;
 *  - icecast: the same with LOA_ICECAST_URL pointing at a second icecast2 (limit 2,100 listeners): the server pushes
 *             the stream there as a source client and the clusters listen at Icecast;
 *  - alone:   no Loa server: a third icecast2 fed directly by ffmpeg with the same encoder settings as the server's
 *             live stream (Opus 32 kbit/s, 20 ms frames, 40 ms pages), N plain HTTP listeners — what one Icecast
 *             serves by itself, the baseline.
 * The clusters are firmware-sim SimClusters (v1.2) in --per-process sized load-generator children
 * (bench/live-fleet.ts), so the server's and Icecast's CPU are measured apart; every process on the same 2 cores.
 *
 * Measured over a window of --airing-s starting --settle-s after the broadcast's startAt:
 *  - CPU (% of one core, 1 s samples, median) and RSS (median / max) of the server's node process, of its ffmpeg
 *    children (relay ingest, Opus encoder), of the distribution icecast2, and of the load generators;
 *  - bytes per cluster: audio pages heard per cluster (sims) or body bytes (raw listeners), and what the serving
 *    serving port sent on each listener socket over the window (kernel bytes_sent from `ss -tin`, HTTP framing in);
 *  - start error between clusters: each cluster's first heard page, error = true instant heard − stamped instant
 *    (the server is on this machine's clock, so that is the error against the common timeline), |error| quantiles
 *    and max − min over clusters; and per page, max − min of the true instants over the clusters that heard it;
 *  - glass-to-speaker: a reference listener (one extra connection) records the stream; the markers are found in its
 *    decoded audio and placed on the stream timeline (stamped instant = epoch + granule/48 kHz + latency); for every
 *    cluster, the page that carried each marker gives its true speaker instant (stamped instant + that cluster's
 *    error on that page). Glass = when ffmpeg was spawned + k · period (so ffmpeg's own start-up, ≲ 0.1 s, is
 *    counted in the figure). Every cluster and every marker in the window, not a sample;
 *  - underruns, gap ms, pages dropped late, stream (re)connects and errors, from the sims.
 * Writes bench/results/live-relay-<timestamp>.json and prints a markdown table.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request, type ClientRequest } from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { OggPageReader, opusPreSkip, STREAM_EPOCH_HEADER } from '../schemas/device-protocol/stream.ts';
import { StreamTimeline } from '../firmware-sim/src/index.ts';
import { feedIcecast, startIcecast, type IcecastFeed, type IcecastServer } from '../test/helpers/icecast.ts';
import { decodeOgg, findMarkers } from '../test/helpers/markers.ts';
import type { FromLiveFleet, LiveCollected, MarkerAt, ToLiveFleet } from './live-fleet.ts';
import { Ipc, machineInfo, resultsFiles, sh, sleep, spawnNode, startWatchdog, stopChild, until } from './harness.ts';
import { PROVINCE, api, benchEnv, provisionFleet, serverFromRef, startLoaServer, type LoaServer } from './loa-server.ts';
import { ProcSampler, SystemSampler } from './proc.ts';
import { quantiles, type Quantiles } from './stats.ts';

const say = (line: string) => process.stderr.write(`${line}\n`);
const trueNow = () => performance.timeOrigin + performance.now();

type Mode = 'direct' | 'icecast' | 'alone';
interface Options {
  clusters: number;
  perProcess: number;
  modes: Mode[];
  airingS: number;
  settleS: number;
  leadS: number;
  connectRate: number;
  concurrency: number;
  skewMs: number;
  driftPpm: number;
  samples: number;
  estimator: 'min-rtt' | 'min-one-way';
  markerEveryS: number;
  latencyMs: number;
  /** burst-size of the distribution icecast2 (icecast and alone modes) */
  icecastBurst: number;
  serverRef: string;
  maxMinutes: number;
  out: string | null;
}

const USAGE = `npm run bench -- live-relay [--clusters 1000] [--per-process 500] [--modes direct,icecast,alone]
  [--airing-s 60] [--settle-s 10] [--lead-s 25] [--connect-rate 100] [--concurrency 200] [--skew-ms 5000]
  [--drift-ppm 50] [--samples 16] [--estimator min-one-way|min-rtt] [--marker-every-s 5] [--latency-ms 1000]
  [--icecast-burst 65536]
  [--server-ref HEAD|<ref>|worktree] [--max-minutes 40] [--out file.json]
npm run bench -- live-relay --report bench/results/live-relay-<…>.json …     (the tables of saved runs)
`;

function parseArgs(argv: string[]): Options {
  const o: Options = {
    clusters: 1000, perProcess: 500, modes: ['direct', 'icecast', 'alone'], airingS: 60, settleS: 10, leadS: 25, connectRate: 100,
    concurrency: 200, skewMs: 5000, driftPpm: 50, samples: 16, estimator: 'min-one-way', markerEveryS: 5, latencyMs: 1000, icecastBurst: 65_536,
    serverRef: 'HEAD', maxMinutes: 40, out: null,
  };
  const num = (v: string | undefined, name: string) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`${name} needs a number, got ${v}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const val = () => inline ?? argv[++i];
    switch (flag) {
      case '--clusters': o.clusters = num(val(), flag); break;
      case '--per-process': o.perProcess = Math.max(1, num(val(), flag)); break;
      case '--modes': o.modes = val()!.split(',').map((m) => { if (!['direct', 'icecast', 'alone'].includes(m)) throw new Error(`unknown mode ${m}`); return m as Mode; }); break;
      case '--airing-s': o.airingS = num(val(), flag); break;
      case '--settle-s': o.settleS = num(val(), flag); break;
      case '--lead-s': o.leadS = num(val(), flag); break;
      case '--connect-rate': o.connectRate = num(val(), flag); break;
      case '--concurrency': o.concurrency = num(val(), flag); break;
      case '--skew-ms': o.skewMs = num(val(), flag); break;
      case '--drift-ppm': o.driftPpm = num(val(), flag); break;
      case '--samples': o.samples = num(val(), flag); break;
      case '--estimator': { const e = val(); if (e !== 'min-rtt' && e !== 'min-one-way') throw new Error(`unknown estimator ${e}`); o.estimator = e; break; }
      case '--marker-every-s': o.markerEveryS = num(val(), flag); break;
      case '--latency-ms': o.latencyMs = num(val(), flag); break;
      case '--icecast-burst': o.icecastBurst = num(val(), flag); break;
      case '--server-ref': o.serverRef = val()!; break;
      case '--max-minutes': o.maxMinutes = num(val(), flag); break;
      case '--out': o.out = val()!; break;
      case '--help': case '-h': process.stdout.write(USAGE); process.exit(0);
      // eslint-disable-next-line no-fallthrough
      default: throw new Error(`unknown option ${a} (try --help)`);
    }
  }
  return o;
}

// ---------------------------------------------------------------- processes outside the harness

/** icecast2 and ffmpeg feeders are spawned by test/helpers/icecast.ts, not by the harness: killed here on exit. */
const extraPids = new Set<number>();
process.on('exit', () => {
  for (const pid of extraPids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
});
async function icecast(clients: number, burstSize?: number): Promise<IcecastServer> {
  const ice = await startIcecast({ clients, burstSize });
  extraPids.add(ice.pid);
  return ice;
}
async function stopIcecast(ice: IcecastServer | null): Promise<void> {
  if (!ice) return;
  await ice.stop();
  extraPids.delete(ice.pid);
}
async function feed(ice: IcecastServer, mount: string, o: Parameters<typeof feedIcecast>[2]): Promise<IcecastFeed> {
  const f = await feedIcecast(ice, mount, o);
  extraPids.add(f.pid);
  return f;
}
async function stopFeed(f: IcecastFeed | null): Promise<void> {
  if (!f) return;
  await f.kill();
  extraPids.delete(f.pid);
}

/**
 * bytes_sent of every established TCP connection whose local port is `port` (ss -tin), by peer address: what the
 * serving process sent on each listener's socket, HTTP framing included (the kernel's count, not the process's).
 */
function socketBytes(port: number): Map<string, number> {
  const m = new Map<string, number>();
  let out = '';
  try {
    out = execFileSync('ss', ['-tinH', 'state', 'established', `( sport = :${port} )`], { encoding: 'utf8', maxBuffer: 64 << 20 });
  } catch {
    return m;
  }
  let peer: string | null = null;
  for (const line of out.split('\n')) {
    if (!line.startsWith('\t') && !line.startsWith(' ')) {
      const f = line.trim().split(/\s+/);
      peer = f.length >= 4 ? f[3]! : null;
    } else if (peer) {
      const b = /bytes_sent:(\d+)/.exec(line);
      m.set(peer, b ? Number(b[1]) : 0);
      peer = null;
    }
  }
  return m;
}
/** per connection present at both ends, bytes/s sent over the window */
function socketRates(a: Map<string, number>, b: Map<string, number>, seconds: number): number[] {
  const out: number[] = [];
  for (const [k, v] of b) {
    const u = a.get(k);
    if (u !== undefined) out.push((v - u) / seconds);
  }
  return out;
}
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').trim();

/** ffmpeg children of the server: the relay ingest (decodes to s16le) and the live stream's Opus encoder. */
function ffmpegChildren(pid: number): { pid: number; role: string }[] {
  let out = '';
  try {
    out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(pid)], { encoding: 'utf8' });
  } catch {
    return [];
  }
  return out.split('\n').filter((l) => l.includes('ffmpeg')).map((l) => {
    const [p, ...rest] = l.trim().split(/\s+/);
    const args = rest.join(' ');
    return { pid: Number(p), role: args.includes('libopus') ? 'encoder' : args.includes('s16le') && args.includes('-af') ? 'ingest' : 'ffmpeg' };
  });
}

// ---------------------------------------------------------------- the reference listener

/** One extra connection that records the stream as it comes, to find the markers in. */
class Reference {
  private req: ClientRequest | null = null;
  chunks: Buffer[] = [];
  epochHeader: number | null = null;
  status = 0;
  constructor(url: string, auth: { id: string; secret: string } | null) {
    const headers = auth ? { authorization: 'Basic ' + Buffer.from(`${auth.id}:${auth.secret}`).toString('base64') } : undefined;
    this.req = request(url, { headers }, (res) => {
      this.status = res.statusCode ?? 0;
      const h = res.headers[STREAM_EPOCH_HEADER];
      if (h !== undefined) this.epochHeader = Number(h);
      if (this.status !== 200) return void res.resume();
      res.on('data', (d: Buffer) => this.chunks.push(d));
    });
    this.req.on('error', () => undefined);
    this.req.end();
  }
  stop(): void {
    this.req?.destroy();
  }

  /**
   * The markers on the stream timeline. Decoded sample k of bytes that begin with the header pages and then audio
   * pages from any point is at granule (first audio page's start) + preSkip + k: ffmpeg drops the pre-skip at the
   * start of its output even mid-stream (checked: markers encoded at programme 2.000/4.000 s decode to 2.000/4.000 s
   * ± 0.2 ms from any cut point). Only the audio up to the first hole in the page sequence is used.
   */
  async markers(latencyMs: number): Promise<{ serverMs: number[]; pages: number; holes: number; decodedS: number; silentMs: number }> {
    const bytes = Buffer.concat(this.chunks);
    const pages = new OggPageReader().push(bytes);
    if (pages.length < 3) return { serverMs: [], pages: pages.length, holes: 0, decodedS: 0, silentMs: 0 };
    const preSkip = opusPreSkip(pages[0]!.body);
    const timeline = new StreamTimeline(this.epochHeader, latencyMs);
    const timed = timeline.push(bytes);
    // the audio pages up to the first hole in the sequence numbers
    let end = 3;
    let holes = 0;
    for (let i = 3; i < pages.length; i++) {
      if (pages[i]!.sequence !== pages[i - 1]!.sequence + 1) {
        holes++;
        if (end === 3) end = i;
      }
    }
    const use = holes ? pages.slice(0, end) : pages;
    const pcm = await decodeOgg(Buffer.concat(use.map((p) => p.bytes)));
    const first = timed[0]!;
    // The programme's bed never stops (a 220 Hz tone), so 10 ms of near-digital silence is the stream's own padding:
    // the pacer found the relay's queue empty.
    let silentMs = 0;
    const smp = new Int16Array(pcm.buffer.slice(pcm.byteOffset, pcm.byteOffset + (pcm.length & ~1)));
    for (let w = 0; w + 480 <= smp.length; w += 480) {
      let e = 0;
      for (let j = w; j < w + 480; j++) e += smp[j]! * smp[j]!;
      if (Math.sqrt(e / 480) < 30) silentMs += 10;
    }
    return {
      silentMs,
      serverMs: findMarkers(pcm).map((k) => first.startS + ((preSkip + k) * 1000) / 48_000),
      pages: pages.length,
      holes,
      decodedS: pcm.length / 2 / 48_000,
    };
  }
}

// ---------------------------------------------------------------- results

interface ProcFig {
  cpuMedianPct: number | null;
  cpuMeanPct: number | null;
  cpuMaxPct: number | null;
  rssMedianMb: number | null;
  rssMaxMb: number | null;
}
interface ModeResult {
  mode: Mode;
  clusters: number;
  ok: boolean;
  error?: string;
  loadavgBefore: string;
  loadavgAfter?: string;
  setup?: Record<string, number>;
  window?: { fromMs: number; toMs: number; seconds: number };
  /** the Loa server's node process; its ffmpeg children; the distribution icecast2; the load generators */
  server?: ProcFig | null;
  serverFfmpeg?: Record<string, ProcFig>;
  icecast?: ProcFig | null;
  fleets?: ProcFig[];
  /** whole machine busy, % of one core (200 = both cores) */
  machineBusyPct?: number | null;
  listeners?: number;
  /** per listener, bytes/s over the window: received (pages heard / body bytes) */
  bytesPerListenerS?: Quantiles;
  bytesMinPerListenerS?: number | null;
  /** what the serving process sent per listener socket (kernel bytes_sent), bytes/s, and the total ÷ listeners */
  sentPerSocketS?: Quantiles & { sockets: number; totalPerListenerS: number | null };
  /** first page heard per cluster: |error| quantiles (ms), and max − min over clusters of the signed error */
  firstPageAbsErrMs?: Quantiles;
  firstPageSpreadMs?: number | null;
  /** first page heard − startAt, per cluster (ms): how late into the slot a cluster joined */
  joinMs?: Quantiles;
  /** per page heard in the window: max − min of the true instants over the clusters that heard it (ms) */
  pageSpreadMs?: Quantiles;
  pagesInWindow?: number;
  /** per cluster, max − min of its own page errors over the window (ms): its offset moved (re-sync, drift) */
  clusterErrRangeMs?: Quantiles;
  /** the sims' MQTT side over the whole mode: sessions, drops, time syncs done (first ones included) */
  mqtt?: { connects: number; disconnects: number; timeSyncs: number; errors: number };
  /** glass-to-speaker (ms), every cluster × every marker in the window */
  glassMs?: Quantiles & { markers: number; missing: number };
  /** the reference recording: pages, sequence holes, decoded seconds, markers in the window, ms of digital silence in
   * all of it, and the shifts of the stream timeline against the upstream between consecutive markers */
  reference?: { pages: number; holes: number; decodedS: number; markers: number; silentMs?: number; shiftsMs?: number[] };
  underruns?: number;
  gapMs?: number;
  droppedLate?: number;
  pagesPlayed?: number;
  streamConnects?: number;
  streamErrors?: number;
  streamFailures?: Record<string, number>;
  rawErrors?: number;
  fleetElu?: number[];
  airings?: LiveCollected['airings'];
  serverListeners?: number | null;
  icecastListeners?: number | null;
}

const fig = (s: ReturnType<ProcSampler['summary']> | undefined): ProcFig | null =>
  s ? { cpuMedianPct: s.cpuMedianPct, cpuMeanPct: s.cpuMeanPct, cpuMaxPct: s.cpuMaxPct, rssMedianMb: s.rssMedianMb, rssMaxMb: s.rssMaxMb } : null;

// ---------------------------------------------------------------- one mode

async function spawnFleets(o: Options, mode: Mode, logDir: string, members: { id: string; secret: string }[], rawUrl: string | null, loa: LoaServer | null): Promise<Ipc<FromLiveFleet, ToLiveFleet>[]> {
  const n = o.clusters;
  const k = Math.max(1, Math.ceil(n / o.perProcess));
  const fleets: Ipc<FromLiveFleet, ToLiveFleet>[] = [];
  for (let p = 0; p < k; p++) {
    const from = Math.floor((p * n) / k);
    const to = Math.floor(((p + 1) * n) / k);
    const child = spawnNode(['--max-old-space-size=4096', '--import', 'tsx', 'bench/live-fleet.ts'], benchEnv(), join(logDir, `${mode}.fleet${p}.log`), true);
    const ipc = new Ipc<FromLiveFleet, ToLiveFleet>(child, `fleet${p}`, say);
    await ipc.request({
      type: 'init',
      mode: rawUrl ? 'raw' : 'sim',
      url: loa ? `mqtt://127.0.0.1:${loa.mqttPort}` : '',
      http: loa?.base ?? '',
      members: members.slice(from, to),
      group: `a-${PROVINCE}`,
      connectRate: o.connectRate / k,
      concurrency: Math.max(1, Math.round(o.concurrency / k)),
      skewMs: o.skewMs,
      driftPpm: o.driftPpm,
      samples: o.samples,
      estimator: o.estimator,
      rawUrl: rawUrl ?? undefined,
      rawCount: rawUrl ? to - from : undefined,
    }, 'inited', 60_000);
    fleets.push(ipc);
  }
  return fleets;
}

async function waitReady(fleets: Ipc<FromLiveFleet, ToLiveFleet>[], n: number, what: 'ready' | 'listening', budgetMs: number, tag: string): Promise<void> {
  let lastLog = 0;
  await until(what === 'ready' ? 'every cluster online, in its groups and time-synced' : 'every listener connected', budgetMs, () => {
    const ps = fleets.map((f) => f.latest('progress'));
    if (ps.some((p) => !p)) return false;
    const sum = (k: 'online' | 'grouped' | 'synced' | 'listening' | 'errors') => ps.reduce((s, p) => s + p![k], 0);
    if (Date.now() - lastLog > 10_000) {
      lastLog = Date.now();
      say(`${tag}: online ${sum('online')}, grouped ${sum('grouped')}, synced ${sum('synced')}, listening ${sum('listening')} / ${n} (errors ${sum('errors')})`);
    }
    return what === 'ready' ? sum('online') === n && sum('grouped') === n && sum('synced') === n : sum('listening') === n;
  }, 250);
}

function merge(cs: LiveCollected[], r: ModeResult, startAt: number): void {
  const windowS = cs[0]!.windowS;
  const bytes = cs.flatMap((c) => c.bytes);
  r.listeners = bytes.length;
  r.bytesPerListenerS = quantiles(bytes.map((b) => b / windowS));
  r.bytesMinPerListenerS = bytes.length ? Math.min(...bytes) / windowS : null;
  r.rawErrors = cs.reduce((s, c) => s + c.rawErrors, 0);
  r.fleetElu = cs.map((c) => Math.round(c.elu * 1000) / 1000);
  if (r.mode === 'alone') return;
  const pages = new Map<number, [number, number, number]>();
  for (const c of cs) {
    for (const [g, mn, mx, k] of c.pages) {
      const p = pages.get(g);
      if (!p) pages.set(g, [mn, mx, k]);
      else pages.set(g, [Math.min(p[0], mn), Math.max(p[1], mx), p[2] + k]);
    }
  }
  // a page heard by a single cluster has no spread
  const spreads = [...pages.values()].filter((p) => p[2] > 1).map((p) => p[1] - p[0]);
  r.pageSpreadMs = quantiles(spreads);
  r.pagesInWindow = pages.size;
  const first = cs.flatMap((c) => c.first);
  r.firstPageAbsErrMs = quantiles(first.map((f) => Math.abs(f.errMs)));
  // how long after the slot's start each cluster first heard the stream (connect, Icecast's answer, retries)
  r.joinMs = quantiles(first.map((f) => f.trueMs - startAt));
  r.firstPageSpreadMs = first.length ? Math.max(...first.map((f) => f.errMs)) - Math.min(...first.map((f) => f.errMs)) : null;
  r.clusterErrRangeMs = quantiles(cs.flatMap((c) => c.errRange));
  const fs = cs.map((c) => c.fleet).filter((x) => x !== null);
  const fsum = (k: 'connects' | 'disconnects' | 'timeSyncs' | 'errors') => fs.reduce((s, x) => s + x[k], 0);
  r.mqtt = { connects: fsum('connects'), disconnects: fsum('disconnects'), timeSyncs: fsum('timeSyncs'), errors: fsum('errors') };
  const glass = cs.flatMap((c) => c.glass).filter(Number.isFinite);
  r.glassMs = { ...quantiles(glass), markers: r.reference?.markers ?? 0, missing: cs.reduce((s, c) => s + c.glassMissing, 0) };
  const sum = (k: 'underruns' | 'gapMs' | 'droppedLate' | 'pagesPlayed' | 'streamConnects' | 'streamErrors') => cs.reduce((s, c) => s + c[k], 0);
  r.underruns = sum('underruns');
  r.gapMs = Math.round(sum('gapMs'));
  r.droppedLate = sum('droppedLate');
  r.pagesPlayed = sum('pagesPlayed');
  r.streamConnects = sum('streamConnects');
  r.streamErrors = sum('streamErrors');
  r.streamFailures = {};
  for (const c of cs) for (const [k, v] of Object.entries(c.streamFailures ?? {})) r.streamFailures[k] = (r.streamFailures[k] ?? 0) + v;
  r.airings = cs.reduce((a, c) => ({ started: a.started + c.airings.started, finished: a.finished + c.airings.finished, failed: a.failed + c.airings.failed, underrunReports: a.underrunReports + c.airings.underrunReports }), { started: 0, finished: 0, failed: 0, underrunReports: 0 });
}

async function icecastListeners(ice: IcecastServer): Promise<number | null> {
  try {
    const j = (await (await fetch(`${ice.base}/status-json.xsl`)).json()) as { icestats: { source?: { listeners?: number } | { listeners?: number }[] } };
    const s = j.icestats.source;
    return (Array.isArray(s) ? s : s ? [s] : []).reduce((a, x) => a + (x.listeners ?? 0), 0);
  } catch {
    return null;
  }
}

const LOA_OPUS = ['-c:a', 'libopus', '-b:a', '32000', '-application', 'audio', '-frame_duration', '20', '-f', 'ogg', '-page_duration', '40000', '-flush_packets', '1', '-content_type', 'audio/ogg'];

async function runMode(o: Options, mode: Mode, logDir: string, serverDir: string, upstream: { ice: IcecastServer; feed: IcecastFeed; url: string } | null): Promise<ModeResult> {
  const n = o.clusters;
  const r: ModeResult = { mode, clusters: n, ok: false, loadavgBefore: loadavg() };
  const tag = `${mode} ${n}`;
  let loa: LoaServer | null = null;
  let dist: IcecastServer | null = null;
  let aloneFeed: IcecastFeed | null = null;
  let fleets: Ipc<FromLiveFleet, ToLiveFleet>[] = [];
  let ref: Reference | null = null;
  const samplers: ProcSampler[] = [];
  let sys: SystemSampler | null = null;
  try {
    if (mode !== 'direct') dist = await icecast(n + 100, o.icecastBurst);
    let members: { id: string; secret: string }[];
    let rawUrl: string | null = null;
    let sourceId = '';
    let token = '';
    if (mode === 'alone') {
      aloneFeed = await feed(dist!, '/alone.ogg', { codec: 'ogg', markerEveryS: o.markerEveryS, encoder: LOA_OPUS });
      rawUrl = `${dist!.base}/alone.ogg`;
      members = Array.from({ length: n }, (_, i) => ({ id: `raw-${i}`, secret: '' }));
    } else {
      loa = await startLoaServer({
        serverDir,
        logFile: join(logDir, `${mode}.server.log`),
        name: 'server',
        dataDirPrefix: `loa-live-${mode}-`,
        env: {
          LOA_LIVE_LATENCY_MS: String(o.latencyMs),
          ...(dist ? { LOA_ICECAST_URL: `http://source:${dist.sourcePassword}@127.0.0.1:${dist.port}` } : {}),
        },
      });
      const prov = await Promise.race([loa.exited, provisionFleet(loa.base, loa.password, n, [{ kind: 'commune', idOf: (i) => `bench-c${String(Math.floor(i / 100)).padStart(3, '0')}` }])]);
      token = prov.token;
      members = prov.members;
      const src = await api<{ id: string }>(loa.base, 'POST', '/api/live/sources', token, { areaId: PROVINCE, name: 'VOV bench', primaryUrl: upstream!.url, backupUrls: [], stallS: 5, retryS: 10 });
      sourceId = src.id;
      r.setup = { areasMs: prov.areasMs, importMs: prov.importMs };
    }
    fleets = await spawnFleets(o, mode, logDir, members, rawUrl, loa);
    const t0 = Date.now();
    for (const f of fleets) f.send({ type: 'start' });
    if (mode === 'alone') {
      await waitReady(fleets, n, 'listening', 120_000 + (n / o.connectRate) * 1000, tag);
      r.setup = { listeningMs: Date.now() - t0 };
    } else {
      await Promise.race([loa!.exited, waitReady(fleets, n, 'ready', 180_000 + (n / o.connectRate) * 1000, tag)]);
      r.setup = { ...r.setup, readyMs: Date.now() - t0 };
    }
    say(`${tag}: ready in ${Date.now() - t0} ms`);
    const servingPid = loa?.child.pid ?? null;
    if (servingPid) samplers.push(new ProcSampler(servingPid));
    const iceSampler = dist ? new ProcSampler(dist.pid) : null;
    if (iceSampler) samplers.push(iceSampler);
    const fleetSamplers = fleets.map((f) => new ProcSampler(f.child.pid!));
    samplers.push(...fleetSamplers);
    sys = new SystemSampler();
    const ffSamplers = new Map<string, ProcSampler>();
    const setPhase = (p: string) => {
      for (const s of [...samplers, ...ffSamplers.values()]) s.setPhase(p);
      sys!.setPhase(p);
    };
    setPhase('before');

    // the broadcast (relaying modes) or the feed already running (alone)
    let startAt = trueNow() + 3000;
    if (loa) {
      const at = Math.round(Date.now() + o.leadS * 1000);
      const b = await api<{ id: string; startAt: string }>(loa.base, 'POST', '/api/broadcasts', token, {
        title: 'Tiếp sóng bench',
        level: 'normal',
        source: { relay: { sourceId, durationS: o.settleS + o.airingS + 20 } },
        targets: { areaIds: [PROVINCE] },
        startAt: new Date(at).toISOString(),
      });
      startAt = Date.parse(b.startAt);
      say(`${tag}: broadcast ${b.id} at +${Math.round(startAt - Date.now())} ms`);
      // the relay starts RELAY_LEAD_MS (20 s) before the slot; then its ffmpeg children can be sampled
      const st = await Promise.race([loa.exited, until('the relay to play its primary', o.leadS * 1000 + 30_000, async () => {
        const s = await api<{ live?: { input?: string } | null }>(loa!.base, 'GET', `/api/live/sources/${sourceId}`, token);
        return s.live?.input === 'primary' ? s.live : null;
      }, 500)]);
      say(`${tag}: relay on ${st.input}`);
      await sleep(1000);
      for (const c of ffmpegChildren(servingPid!)) ffSamplers.set(`${c.role}-${c.pid}`, new ProcSampler(c.pid));
      for (const s of ffSamplers.values()) s.setPhase('before');
      const url = mode === 'icecast' ? `${dist!.base}/r-${sourceId}.ogg` : `${loa.base}/api/device/live/r-${sourceId}`;
      // the reference listener joins before the window (the device route needs the item in the cluster's manifest)
      await sleep(Math.max(0, startAt - 8000 - Date.now()));
      for (let i = 0; ; i++) {
        ref = new Reference(url, mode === 'direct' ? members[0]! : null);
        await sleep(1500);
        if (ref.status === 200) break;
        ref.stop();
        if (i > 10) throw new Error(`reference listener got HTTP ${ref.status} at ${url}`);
      }
    }
    await sleep(Math.max(0, startAt + o.settleS * 1000 - trueNow()));
    const fromMs = trueNow();
    const servingPort = mode === 'direct' ? Number(new URL(loa!.base).port) : dist!.port;
    const sock0 = socketBytes(servingPort);
    setPhase('window');
    await sleep(o.airingS * 1000);
    setPhase('after');
    const toMs = trueNow();
    const sock1 = socketBytes(servingPort);
    const seconds = (toMs - fromMs) / 1000;
    r.window = { fromMs, toMs, seconds };
    r.loadavgAfter = loadavg();
    if (loa) {
      const streams = await api<{ listeners: number }[]>(loa.base, 'GET', '/api/live/streams', token).catch(() => null);
      r.serverListeners = streams ? streams.reduce((s, x) => s + x.listeners, 0) : null;
    }
    if (dist) r.icecastListeners = await icecastListeners(dist);
    ref?.stop();

    // markers in the window, placed on the stream timeline; glass = feed spawn + k · period
    let markers: MarkerAt[] = [];
    if (upstream && mode !== 'alone') {
      const m = await ref!.markers(o.latencyMs);
      const period = o.markerEveryS * 1000;
      const inWindow = m.serverMs.filter((s) => s >= fromMs && s < toMs - 200);
      markers = inWindow.map((s) => ({ serverMs: s, glassMs: upstream.feed.startedAt + Math.floor((s - upstream.feed.startedAt) / period) * period }));
      // consecutive markers are exactly one period apart upstream: a change of (stamped − glass) between them is audio
      // the relay dropped (negative) or silence it padded (positive) in between
      const d = markers.map((x) => x.serverMs - x.glassMs);
      const shifts = d.slice(1).map((x, j) => Math.round(x - d[j]!));
      r.reference = { pages: m.pages, holes: m.holes, decodedS: Math.round(m.decodedS * 10) / 10, markers: markers.length, silentMs: m.silentMs, shiftsMs: shifts };
      say(`${tag}: reference ${m.pages} pages (${m.holes} holes), ${m.serverMs.length} markers, ${markers.length} in the window; stamped − glass mod ${period} ms: ` +
        markers.map((x) => Math.round(x.serverMs - x.glassMs)).join(' '));
    }
    const cs = await Promise.all(fleets.map((f) => f.request({ type: 'collect', fromMs, toMs, markers }, 'collected', 120_000)));
    merge(cs, r, startAt);
    // listener sockets: those that carried more than 1 kB/s (not API calls, not the source push, which is inbound)
    const rates = socketRates(sock0, sock1, seconds).filter((x) => x > 1000);
    r.sentPerSocketS = { ...quantiles(rates), sockets: rates.length, totalPerListenerS: r.listeners ? rates.reduce((s2, x) => s2 + x, 0) / r.listeners : null };
    for (const s of [...samplers, ...ffSamplers.values()]) s.stop();
    sys.stop();
    r.server = servingPid ? fig(samplers[0]!.summary('window')) : null;
    r.icecast = iceSampler ? fig(iceSampler.summary('window')) : null;
    r.fleets = fleetSamplers.map((s) => fig(s.summary('window'))!);
    r.serverFfmpeg = Object.fromEntries([...ffSamplers].map(([k, s]) => [k, fig(s.summary('window'))!]));
    r.machineBusyPct = sys.meanPct('window');
    r.ok = true;
  } catch (e) {
    r.error = String((e as Error)?.stack ?? e);
    say(`${tag}: failed: ${r.error}`);
  } finally {
    for (const s of samplers) s.stop();
    sys?.stop();
    ref?.stop();
    await Promise.all(fleets.map((f) => f.request({ type: 'stop' }, 'stopped', 30_000).catch(() => null)));
    await Promise.all(fleets.map((f) => stopChild(f.child, 5000)));
    await loa?.stop(20_000);
    await stopFeed(aloneFeed);
    await stopIcecast(dist);
  }
  return r;
}

// ---------------------------------------------------------------- report

const f0 = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : String(Math.round(x)));
const f1 = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(1));
const kb = (x: number | null | undefined) => (x === null || x === undefined ? '—' : (x / 1000).toFixed(2));

export function markdown(rs: ModeResult[]): string {
  const by = (m: Mode) => rs.find((r) => r.mode === m && r.ok);
  const d = by('direct');
  const i = by('icecast');
  const a = by('alone');
  const ff = (r: ModeResult | undefined) => {
    if (!r?.serverFfmpeg) return '—';
    const v = Object.values(r.serverFfmpeg);
    return `${f0(v.reduce((s, x) => s + (x.cpuMedianPct ?? 0), 0))} % / ${f0(v.reduce((s, x) => s + (x.rssMedianMb ?? 0), 0))} MB`;
  };
  const cell = (r: ModeResult | undefined, fn: (r: ModeResult) => string) => (r ? fn(r) : '—');
  const row = (name: string, fn: (r: ModeResult) => string) => `| ${name} | ${cell(d, fn)} | ${cell(i, fn)} | ${cell(a, fn)} |`;
  const q = (x: Quantiles | undefined) => (x ? `${f1(x.p50)} / ${f1(x.p99)} / ${f1(x.max)}` : '—');
  const lines = [
    `| ${rs[0]?.clusters ?? ''} listeners, ${f0(rs.find((r) => r.ok)?.window?.seconds)} s window | direct (Loa serves) | via Icecast (Loa → icecast2) | Icecast alone (ffmpeg → icecast2) |`,
    '|---|---|---|---|',
    row('Loa server CPU median / mean (% of a core)', (r) => (r.server ? `${f0(r.server.cpuMedianPct)} / ${f0(r.server.cpuMeanPct)}` : 'no server')),
    row('Loa server RSS median / max (MB)', (r) => (r.server ? `${f0(r.server.rssMedianMb)} / ${f0(r.server.rssMaxMb)}` : '—')),
    row("server's ffmpeg (ingest + encoder) CPU / RSS", (r) => (r.mode === 'alone' ? 'feeder ffmpeg not sampled' : ff(r))),
    row('icecast2 CPU median / mean (%)', (r) => (r.icecast ? `${f0(r.icecast.cpuMedianPct)} / ${f0(r.icecast.cpuMeanPct)}` : 'no icecast')),
    row('icecast2 RSS median / max (MB)', (r) => (r.icecast ? `${f0(r.icecast.rssMedianMb)} / ${f0(r.icecast.rssMaxMb)}` : '—')),
    row('listeners connected at the end (server / icecast)', (r) => `${r.serverListeners ?? '—'} / ${r.icecastListeners ?? '—'}`),
    row('bytes per listener, received (kB/s p50, min)', (r) => `${kb(r.bytesPerListenerS?.p50)}, min ${kb(r.bytesMinPerListenerS)}`),
    row('sent by the serving port per listener socket, p50 / max (kB/s; sockets)', (r) => (r.sentPerSocketS ? `${kb(r.sentPerSocketS.p50)} / ${kb(r.sentPerSocketS.max)} (${r.sentPerSocketS.sockets})` : '—')),
    row('start error, first page |err| p50 / p99 / max (ms)', (r) => q(r.firstPageAbsErrMs)),
    row('joined: first page heard − startAt p50 / p99 / max (ms)', (r) => q(r.joinMs)),
    row('start spread over clusters, first page max − min (ms)', (r) => f1(r.firstPageSpreadMs)),
    row('per-page spread over clusters p50 / p99 / max (ms)', (r) => q(r.pageSpreadMs)),
    row('per-cluster error range over the window p50 / p99 / max (ms)', (r) => q(r.clusterErrRangeMs)),
    row('sims MQTT connects / disconnects / time syncs', (r) => (r.mqtt ? `${r.mqtt.connects} / ${r.mqtt.disconnects} / ${r.mqtt.timeSyncs}` : '—')),
    row('glass-to-speaker p50 / p99 / max (ms)', (r) => (r.glassMs ? `${q(r.glassMs)} (n ${r.glassMs.n}, ${r.glassMs.markers} markers)` : '—')),
    row('stream timeline vs upstream: shifts between markers (ms); silence in the recording (ms)', (r) => (r.reference?.shiftsMs ? `${r.reference.shiftsMs.join(' ')}; ${r.reference.silentMs}` : '—')),
    row('underruns (total gap ms)', (r) => (r.underruns === undefined ? '—' : `${r.underruns} (${r.gapMs})`)),
    row('pages dropped late (Icecast: its connect burst, already past) / played', (r) => (r.droppedLate === undefined ? '—' : `${r.droppedLate} / ${r.pagesPlayed}`)),
    row('stream connects / errors', (r) => (r.streamConnects === undefined ? `raw errors ${r.rawErrors ?? '—'}` : `${r.streamConnects} / ${r.streamErrors}${r.streamErrors ? ` (${Object.entries(r.streamFailures ?? {}).map(([k, v]) => `${k}: ${v}`).join(', ')})` : ''}`)),
    row('load generators CPU median (%) / ELU', (r) => `${(r.fleets ?? []).map((x) => f0(x.cpuMedianPct)).join(' + ')} / ${(r.fleetElu ?? []).join(', ')}`),
    row('machine busy, mean (% of one core, of 200)', (r) => f0(r.machineBusyPct)),
    row('load average before → after', (r) => `${r.loadavgBefore.split(' ').slice(0, 3).join(' ')} → ${(r.loadavgAfter ?? '').split(' ').slice(0, 3).join(' ')}`),
  ];
  const ratio = (x: number | null | undefined, y: number | null | undefined) => (x && y ? (x / y).toFixed(1) : '—');
  const distCpu = (r: ModeResult | undefined) => (r ? (r.server?.cpuMedianPct ?? 0) + (r.icecast?.cpuMedianPct ?? 0) + (r.serverFfmpeg ? Object.values(r.serverFfmpeg).reduce((s, x) => s + (x.cpuMedianPct ?? 0), 0) : 0) : null);
  lines.push('', `Ratios (CPU medians): direct Loa server ÷ Icecast alone ${ratio(d?.server?.cpuMedianPct, a?.icecast?.cpuMedianPct)}; ` +
    `icecast2 in Loa→Icecast ÷ Icecast alone ${ratio(i?.icecast?.cpuMedianPct, a?.icecast?.cpuMedianPct)}; ` +
    `whole chain (server + its ffmpeg + icecast): direct ${f0(distCpu(d))} %, via Icecast ${f0(distCpu(i))} %, Icecast alone ${f0(distCpu(a))} % (feeder ffmpeg not counted).`);
  for (const r of rs) if (!r.ok) lines.push('', `**${r.mode} failed:** ${r.error?.split('\n')[0]}`);
  return lines.join('\n') + '\n';
}

// ---------------------------------------------------------------- main

export async function liveRelayMain(argv: string[]): Promise<void> {
  // `--report <results.json …>`: the tables of saved runs again
  if (argv[0] === '--report') {
    for (const f of argv.slice(1)) process.stdout.write(`\n${f}\n\n${markdown((JSON.parse(readFileSync(f, 'utf8')) as { results: ModeResult[] }).results)}`);
    return;
  }
  // run.ts (the entry point) has called guardChildren
  const o = parseArgs(argv);
  const { logDir, out, save } = resultsFiles('live-relay-', o.out);
  const deadline = startWatchdog(o.maxMinutes, 124, say);
  const serverDir = serverFromRef(o.serverRef);
  const machine = machineInfo(o.serverRef, { icecast: sh('bash', ['-c', '/usr/bin/icecast2 -v']) });
  say(`live-relay: ${o.clusters} clusters (${Math.ceil(o.clusters / o.perProcess)} load generators), modes ${o.modes.join(',')}, window ${o.airingS} s after ${o.settleS} s, server ${machine.serverCommit}`);
  const results: ModeResult[] = [];
  const doc = () => ({ options: o, machine, results });
  let upstream: { ice: IcecastServer; feed: IcecastFeed; url: string } | null = null;
  try {
    if (o.modes.some((m) => m !== 'alone')) {
      const ice = await icecast(50);
      const f = await feed(ice, '/vov1.mp3', { codec: 'mp3', markerEveryS: o.markerEveryS });
      upstream = { ice, feed: f, url: `${ice.base}/vov1.mp3` };
      say(`upstream: ${upstream.url} (marker every ${o.markerEveryS} s)`);
    }
    for (const m of o.modes) {
      say(`mode ${m}: ${o.clusters} listeners`);
      results.push(await runMode(o, m, logDir, serverDir, upstream));
      save(doc());
      await sleep(3000);
    }
  } finally {
    await stopFeed(upstream?.feed ?? null);
    await stopIcecast(upstream?.ice ?? null);
  }
  clearTimeout(deadline);
  process.stdout.write('\n' + markdown(results));
  process.stdout.write(`\nresults: ${out}\nlogs: ${logDir}\n`);
}

