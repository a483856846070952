/**
 * Emergency broadcast benchmark: API call → play order on every device → synchronised start, for N simulated
 * clusters, against the broker's own fan-out measured in the same run.
 *
 *   npx tsx bench/broadcast.ts                          # sizes 1000,5000,10000
 *   npx tsx bench/broadcast.ts --quick                  # smoke run: 200 clusters
 *   npx tsx bench/broadcast.ts --sizes 10000 --profile  # + CPU profile of the server over each broadcast
 *   npx tsx bench/broadcast.ts --report bench/results/broadcast-<stamp>.json   # the tables again
 *
 * Per size, two parts (each in its own child processes; this process only times, polls and samples /proc):
 *
 *  1. bare — bench/broadcast-bare.ts (aedes, default options) and bench/broadcast-subs.ts (N mqtt.js subscribers
 *     on one topic at QoS 1). A publisher client here publishes one `--payload-bytes` QoS 1 message; latency =
 *     each subscriber's receipt − the instant before publish(). Alternated with an in-process broker.publish in
 *     the broker child (how the server publishes). `--bare-reps` of each, medians reported.
 *  2. product — server/src/main.ts with a fresh data dir; one province, communes of `--per-commune` clusters,
 *     imported in one call; a 2 s tone uploaded; bench/broadcast-fleet.ts runs the SimFleet (skewed, drifting
 *     clocks behind an asymmetric jittery link, per-direction time sync). Once every cluster is online, holds its
 *     group subscriptions and has synced, `--broadcasts` emergencies are sent to the province (one group publish)
 *     or to every commune (`--target communes`), each timed from just before the POST.
 *
 * All times are on one wall clock (performance.timeOrigin + performance.now() in every process). Results:
 * bench/results/broadcast-<timestamp>.json and a markdown summary on stdout (BENCHMARKS.md holds the write-up).
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { connect as mqttConnect, type MqttClient } from 'mqtt';
import { runFfmpeg } from '../server/src/content/ffmpeg.ts';
import { ProcSampler } from './proc.ts';
import { quantile } from './stats.ts';
import { monoUs, printProfile, summariseProfile, type ProfileWindow, type WindowSummary } from './broadcast-profile.ts';
import type { FleetCollect, FromFleet, ToFleet } from './broadcast-fleet.ts';
import type { FromSubs, ToSubs } from './broadcast-subs.ts';
import type { FromBareBroker, ToBareBroker } from './broadcast-bare.ts';
import { Ipc, ROOT, freePort, guardChildren, resultsFiles, runMain, sleep, spawnNode, startWatchdog, stopChild, tcpOpen, until } from './harness.ts';
import { PROVINCE, api, benchEnv, memberId, provisionFleet, startLoaServer, type LoaServer } from './loa-server.ts';

const now = () => performance.timeOrigin + performance.now();
const log = (s: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${s}\n`);
guardChildren(log);

// ---------------------------------------------------------------- options

interface Options {
  sizes: number[];
  parts: ('bare' | 'product')[];
  bareReps: number;
  broadcasts: number;
  payloadBytes: number;
  leadMs: number;
  perCommune: number;
  target: 'province' | 'communes';
  connectRate: number;
  concurrency: number;
  skewMs: number;
  driftPpm: number;
  samples: number;
  estimator: 'min-rtt' | 'min-one-way';
  up: [number, number];
  down: [number, number];
  contentFetch: 'assume' | 'http';
  assumeDelayMs: number;
  profile: boolean;
  mqProbe: boolean;
  /** what-if: the server's mqemitter concurrency overridden through the probe (null = as shipped) */
  mqConcurrency: number | null;
  pollMs: number;
  maxMinutes: number;
  out: string | null;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    sizes: [1000, 5000, 10000],
    parts: ['bare', 'product'],
    bareReps: 5,
    broadcasts: 3,
    payloadBytes: 1024,
    leadMs: 3000,
    perCommune: 100,
    target: 'province',
    connectRate: 100,
    concurrency: 200,
    skewMs: 5000,
    driftPpm: 50,
    samples: 48,
    estimator: 'min-one-way',
    up: [20, 200],
    down: [20, 120],
    contentFetch: 'assume',
    assumeDelayMs: 1000,
    profile: false,
    mqProbe: false,
    mqConcurrency: null,
    pollMs: 500,
    maxMinutes: 60,
    out: null,
  };
  const num = (v: string | undefined, name: string) => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n) || n < 0) throw new Error(`${name} needs a number, got ${v}`);
    return n;
  };
  const range = (v: string, name: string): [number, number] => {
    const m = /^(\d+)-(\d+)$/.exec(v);
    if (!m || Number(m[2]) < Number(m[1])) throw new Error(`${name} needs MIN-MAX (ms), got ${v}`);
    return [Number(m[1]), Number(m[2])];
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const val = () => inline ?? argv[++i];
    switch (flag) {
      case '--sizes': o.sizes = val().split(',').map((s) => num(s, flag)); break;
      case '--parts': o.parts = val().split(',').map((p) => { if (p !== 'bare' && p !== 'product') throw new Error(`unknown part ${p}`); return p; }); break;
      case '--bare-reps': o.bareReps = Math.max(1, num(val(), flag)); break;
      case '--broadcasts': o.broadcasts = Math.max(1, num(val(), flag)); break;
      case '--payload-bytes': o.payloadBytes = num(val(), flag); break;
      case '--lead-ms': o.leadMs = num(val(), flag); break;
      case '--per-commune': o.perCommune = Math.max(1, num(val(), flag)); break;
      case '--target': { const t = val(); if (t !== 'province' && t !== 'communes') throw new Error('--target province|communes'); o.target = t; break; }
      case '--connect-rate': o.connectRate = Math.max(1, num(val(), flag)); break;
      case '--concurrency': o.concurrency = Math.max(1, num(val(), flag)); break;
      case '--skew-ms': o.skewMs = num(val(), flag); break;
      case '--drift-ppm': o.driftPpm = num(val(), flag); break;
      case '--samples': o.samples = Math.max(1, num(val(), flag)); break;
      case '--estimator': { const e = val(); if (e !== 'min-rtt' && e !== 'min-one-way') throw new Error('--estimator min-rtt|min-one-way'); o.estimator = e; break; }
      case '--up': o.up = range(val(), flag); break;
      case '--down': o.down = range(val(), flag); break;
      case '--content-fetch': { const c = val(); if (c !== 'assume' && c !== 'http') throw new Error('--content-fetch assume|http'); o.contentFetch = c; break; }
      case '--assume-delay-ms': o.assumeDelayMs = num(val(), flag); break;
      case '--profile': o.profile = true; break;
      case '--mq-probe': o.mqProbe = true; break;
      case '--mq-concurrency': o.mqConcurrency = num(val(), flag); o.mqProbe = true; break;
      case '--poll-ms': o.pollMs = Math.max(50, num(val(), flag)); break;
      case '--max-minutes': o.maxMinutes = num(val(), flag); break;
      case '--out': o.out = val(); break;
      case '--quick':
        o.sizes = [200];
        o.bareReps = 3;
        o.broadcasts = 2;
        o.samples = 24;
        break;
      case '--help':
      case '-h':
        process.stdout.write(
          'npx tsx bench/broadcast.ts [--sizes 1000,5000,10000] [--parts bare,product] [--bare-reps 5] [--broadcasts 3]\n' +
            '  [--payload-bytes 1024] [--lead-ms 3000] [--per-commune 100] [--target province|communes] [--connect-rate 100]\n' +
            '  [--concurrency 200] [--skew-ms 5000] [--drift-ppm 50] [--samples 48] [--estimator min-one-way|min-rtt]\n' +
            '  [--up 20-200] [--down 20-120] [--content-fetch assume|http] [--assume-delay-ms 1000] [--poll-ms 500] [--profile]\n' +
            '  [--mq-probe] [--mq-concurrency N (what-if, implies --mq-probe)]\n' +
            '  [--max-minutes 60] [--out file.json] [--quick]\n',
        );
        process.exit(0);
      // eslint-disable-next-line no-fallthrough
      default:
        throw new Error(`unknown option ${a} (try --help)`);
    }
  }
  return o;
}

// ---------------------------------------------------------------- statistics

interface Dist {
  n: number;
  missing: number;
  min: number | null;
  p50: number | null;
  p99: number | null;
  max: number | null;
}
const r1 = (x: number | null) => (x === null ? null : Math.round(x * 10) / 10);
function dist(values: number[]): Dist {
  const ok = values.filter(Number.isFinite).sort((a, b) => a - b);
  return { n: ok.length, missing: values.length - ok.length, min: r1(ok[0] ?? null), p50: r1(quantile(ok, 0.5)), p99: r1(quantile(ok, 0.99)), max: r1(ok.length ? ok[ok.length - 1] : null) };
}
const med = (xs: (number | null | undefined)[]): number | null => {
  const v = xs.filter((x): x is number => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return null;
  return r1(v.length % 2 ? v[v.length >> 1] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2);
};
function medDist(ds: Dist[]): Dist {
  return { n: Math.min(...ds.map((d) => d.n)), missing: Math.max(...ds.map((d) => d.missing)), min: med(ds.map((d) => d.min)), p50: med(ds.map((d) => d.p50)), p99: med(ds.map((d) => d.p99)), max: med(ds.map((d) => d.max)) };
}
const ratio = (a: number | null, b: number | null) => (a === null || b === null || b === 0 ? null : Math.round((a / b) * 100) / 100);

// ---------------------------------------------------------------- ids and areas

const communeOf = (i: number, per: number) => `bench-c${String(Math.floor(i / per)).padStart(3, '0')}`;
const PLAY_TOPIC = `loa/v1/grp/a-${PROVINCE}/play`;

// ---------------------------------------------------------------- part 1: bare aedes

interface BareRep {
  mode: 'client' | 'inproc';
  /** publish → receipt on each subscriber, ms */
  latency: Dist;
  /** PUBACK (client) or aedes callback (in-process), ms after the publish call */
  ackMs: number | null;
  subsElu: number;
}
interface BareResult {
  ok: boolean;
  error?: string;
  connectMs?: number;
  failed?: number;
  reps: BareRep[];
  client?: Dist;
  inproc?: Dist;
  proc?: Record<string, unknown>;
}

async function runBare(o: Options, n: number, logDir: string): Promise<BareResult> {
  const res: BareResult = { ok: false, reps: [] };
  const port = await freePort();
  const env = { ...process.env };
  let broker: ChildProcess | null = null;
  let subs: Ipc<FromSubs, ToSubs> | null = null;
  let pub: MqttClient | null = null;
  let bs: ProcSampler | null = null;
  let ss: ProcSampler | null = null;
  try {
    broker = spawnNode(['--import', 'tsx', 'bench/broadcast-bare.ts', String(port)], env, join(logDir, `bare-${n}.broker.log`), true);
    const brokerIpc = new Ipc<FromBareBroker, ToBareBroker>(broker, 'bare broker', log);
    await until('bare broker to listen', 30_000, () => tcpOpen(port));
    const sc = spawnNode(['--max-old-space-size=4096', '--import', 'tsx', 'bench/broadcast-subs.ts'], env, join(logDir, `bare-${n}.subs.log`), true);
    subs = new Ipc<FromSubs, ToSubs>(sc, 'bare subscribers', log);
    const ids = Array.from({ length: n }, (_, i) => memberId(i));
    const ready = await subs.request({ type: 'init', url: `mqtt://127.0.0.1:${port}`, ids, topic: PLAY_TOPIC, concurrency: o.concurrency, timeoutMs: 30_000 }, 'ready', 60_000 + n * 20);
    res.connectMs = ready.connectMs;
    res.failed = ready.failed;
    log(`bare ${n}: ${n - ready.failed}/${n} subscribed in ${ready.connectMs} ms`);
    pub = mqttConnect(`mqtt://127.0.0.1:${port}`, { clientId: 'bench-publisher', protocolVersion: 4, clean: true, reconnectPeriod: 0 });
    await new Promise<void>((r, j) => {
      pub!.once('connect', () => r());
      pub!.once('error', j);
    });
    bs = new ProcSampler(broker.pid!, 250);
    ss = new ProcSampler(sc.pid!, 250);
    await sleep(2000);
    const payload = Buffer.alloc(o.payloadBytes, 'x');
    // one unmeasured warm-up (JIT, first-time allocations), then alternate the two ways of publishing
    const modes: ('client' | 'inproc')[] = ['client'];
    for (let r = 0; r < o.bareReps; r++) modes.push('client', 'inproc');
    for (const [k, mode] of modes.entries()) {
      await subs.request({ type: 'arm' }, 'armed', 10_000);
      bs.setPhase(k === 0 ? 'warmup' : 'fanout');
      ss.setPhase(k === 0 ? 'warmup' : 'fanout');
      let t0: number;
      let ackAt: number | null = null;
      if (mode === 'client') {
        t0 = now();
        pub.publish(PLAY_TOPIC, payload, { qos: 1 }, (err) => {
          if (!err) ackAt = now();
        });
      } else {
        const p = brokerIpc.request({ type: 'publish', topic: PLAY_TOPIC, bytes: o.payloadBytes }, 'published', 30_000);
        const m = await p;
        t0 = m.at;
        ackAt = m.doneAt;
      }
      const col = await subs.request({ type: 'collect', timeoutMs: 30_000 }, 'collected', 60_000);
      bs.setPhase('idle');
      ss.setPhase('idle');
      const rep: BareRep = { mode, latency: dist(col.recv.map((x) => x - t0)), ackMs: ackAt === null ? null : r1(ackAt - t0), subsElu: Math.round(col.elu * 100) / 100 };
      if (k > 0) res.reps.push(rep);
      log(`bare ${n} ${k === 0 ? 'warm-up' : `rep ${k}`} ${mode}: p50 ${rep.latency.p50} p99 ${rep.latency.p99} max ${rep.latency.max} ms (missing ${rep.latency.missing}), ack ${rep.ackMs} ms`);
      await sleep(1500);
    }
    res.client = medDist(res.reps.filter((r) => r.mode === 'client').map((r) => r.latency));
    res.inproc = medDist(res.reps.filter((r) => r.mode === 'inproc').map((r) => r.latency));
    bs.stop();
    ss.stop();
    res.proc = { broker: { fanout: bs.summary('fanout'), peakRssMb: Math.round(bs.peakHwmMb) }, subscribers: { fanout: ss.summary('fanout'), peakRssMb: Math.round(ss.peakHwmMb) } };
    res.ok = true;
  } catch (e) {
    res.error = String((e as Error).stack ?? e);
    log(`bare ${n} failed: ${res.error}`);
  } finally {
    bs?.stop();
    ss?.stop();
    pub?.end(true);
    if (subs) {
      try {
        await subs.request({ type: 'stop' }, 'stopped', 30_000);
      } catch {
        /* killed below */
      }
      await stopChild(subs.child, 5000);
    }
    await stopChild(broker, 10_000);
  }
  return res;
}

// ---------------------------------------------------------------- part 2: the product

async function uploadTone(base: string, token: string, dir: string, seconds: number): Promise<{ id: string; durationMs: number; sizeBytes: number }> {
  const file = join(dir, `tone-${seconds}s.wav`);
  const run = await runFfmpeg(['-hide_banner', '-v', 'error', '-y', '-f', 'lavfi', '-i', `sine=frequency=880:duration=${seconds}`, '-af', 'volume=0.3', file]);
  if (run.code !== 0) throw new Error(`ffmpeg: ${run.stderr}`);
  const form = new FormData();
  form.append('file', new Blob([readFileSync(file)], { type: 'audio/wav' }), `tone-${seconds}s.wav`);
  form.append('title', `Bench tone ${seconds} s`);
  const res = await fetch(`${base}/api/content`, { method: 'POST', body: form, headers: { authorization: `Bearer ${token}` } });
  const body = (await res.json()) as { id: string; durationMs?: number; sizeBytes?: number };
  if (res.status !== 201) throw new Error('upload failed: ' + JSON.stringify(body));
  return { id: body.id, durationMs: body.durationMs ?? seconds * 1000, sizeBytes: body.sizeBytes ?? 0 };
}

interface Delivery {
  targeted: number;
  received: number;
  downloaded: number;
  started: number;
  finished: number;
  failed: number;
}
interface BroadcastRun {
  id: string;
  /** wall-clock instant of the API call (ms since epoch), to line up with server-side logs */
  t0At: number;
  /** POST /api/broadcasts → response (ms) */
  apiMs: number;
  /** startAt the server fixed, ms after the API call */
  startAtMs: number;
  /** raw arrival at the mqtt.js client, ms after the API call */
  raw: Dist;
  /** `item` event (after the simulated downlink), ms after the API call */
  item: Dist;
  /** raw spread: last − first arrival (the fan-out itself, without what came before the publish) */
  rawSpreadMs: number | null;
  /** every device has reported 'started' (device side), ms after the API call */
  allStartedMs: number | null;
  startedDist: Dist;
  /** the API shows delivery.received / .started = N (polled every --poll-ms), ms after the API call */
  apiAllReceivedMs: number | null;
  apiAllStartedMs: number | null;
  apiDelivery: Delivery | null;
  /** |trueStartMs − targetMs| across clusters, ms */
  syncAbs: Dist;
  syncSignedMedian: number | null;
  /** latest − earliest start (ms): how far apart the first and last speaker begin */
  syncSpreadMs: number | null;
  lateMaxMs: number | null;
  /** orders accepted (item event) after the start instant, and orders whose assumed content fetch ended after it */
  ordersAfterStart: number;
  contentAfterStart: number;
  /** clusters whose player started late by any amount and sought into the programme (late timers in a busy fleet
   *  process count here too: the simulator seeks them away), and the largest seek */
  sought: number;
  soughtMaxMs: number;
  missingStarts: number;
  sync: FleetCollect['sync'];
  fleetElu: number;
  orderBytes: number | null;
}
interface ProductResult {
  ok: boolean;
  error?: string;
  setup?: { areasMs: number; importMs: number; uploadMs: number; onlineMs: number; syncedMs: number; communes: number };
  broadcasts: BroadcastRun[];
  median?: {
    apiMs: number | null;
    raw: Dist;
    item: Dist;
    rawSpreadMs: number | null;
    allStartedMs: number | null;
    apiAllStartedMs: number | null;
    syncAbs: Dist;
    syncSignedMedian: number | null;
    syncSpreadMs: number | null;
  };
  proc?: Record<string, unknown>;
  profile?: { file: string; windows: WindowSummary[] };
  fleetStats?: unknown;
}

async function runProduct(o: Options, n: number, logDir: string): Promise<ProductResult> {
  const res: ProductResult = { ok: false, broadcasts: [] };
  const env = benchEnv();
  const profDir = join(logDir, `prof-${n}`);
  const serverLog = join(logDir, `product-${n}.server.log`);
  let server: LoaServer | null = null;
  let fleet: Ipc<FromFleet, ToFleet> | null = null;
  let ss: ProcSampler | null = null;
  let fs: ProcSampler | null = null;
  const windows: ProfileWindow[] = [];
  try {
    // the working tree as it is (machine() records its commit and changed files)
    server = await startLoaServer({
      serverDir: ROOT,
      logFile: serverLog,
      name: 'server',
      dataDirPrefix: `loa-bcast-${n}-`,
      nodeArgs: o.profile ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [],
      preload: o.mqProbe ? ['--import', './bench/broadcast-mqprobe.ts'] : [],
      env: {
        LOA_SYNC_LEAD_MS: String(o.leadMs),
        ...(o.mqConcurrency !== null ? { LOA_BENCH_MQ_CONCURRENCY: String(o.mqConcurrency) } : {}),
      },
    });
    const { base, exited, mqttPort } = server;
    const child = server.child;

    // provisioning: one province, communes of perCommune clusters, one import call
    const prov = await provisionFleet(base, server.password, n, [{ kind: 'commune', idOf: (i) => communeOf(i, o.perCommune) }]);
    const { token, members, areasMs, importMs } = prov;
    const communes = prov.areaIds[0];
    const tu = Date.now();
    const content = await uploadTone(base, token, server.dataDir, 2);
    const uploadMs = Date.now() - tu;
    log(`product ${n}: ${communes.length} communes in ${areasMs} ms, import ${importMs} ms, content ${content.id} (${content.durationMs} ms) in ${uploadMs} ms`);

    // the fleet
    const fc = spawnNode(['--max-old-space-size=6144', '--import', 'tsx', 'bench/broadcast-fleet.ts'], env, join(logDir, `product-${n}.fleet.log`), true);
    fleet = new Ipc<FromFleet, ToFleet>(fc, 'fleet', log);
    const jitter = (r: [number, number]) => ({ delayMs: r[0], jitterMs: r[1] - r[0] });
    await fleet.request({
      type: 'init',
      url: `mqtt://127.0.0.1:${mqttPort}`,
      http: base,
      members,
      group: `a-${PROVINCE}`,
      connectRate: o.connectRate,
      concurrency: o.concurrency,
      skewMs: o.skewMs,
      driftPpm: o.driftPpm,
      samples: o.samples,
      estimator: o.estimator,
      contentFetch: o.contentFetch,
      assumeDelayMs: o.assumeDelayMs,
      network: { up: jitter(o.up), down: jitter(o.down) },
    }, 'inited', 60_000);
    ss = new ProcSampler(child.pid!, 250);
    fs = new ProcSampler(fc.pid!, 250);
    ss.setPhase('connect');
    fs.setPhase('connect');
    const tf = Date.now();
    fleet.send({ type: 'start' });
    let onlineMs = 0;
    let lastLog = 0;
    const readyBudget = (n / o.connectRate) * 1000 + 180_000;
    await Promise.race([exited, until('every cluster online, in its groups and time-synced', readyBudget, () => {
      const p = fleet!.latest('progress');
      if (!p) return false;
      if (!onlineMs && p.online === n) onlineMs = Date.now() - tf;
      if (Date.now() - lastLog > 10_000) {
        lastLog = Date.now();
        log(`product ${n}: online ${p.online}, grouped ${p.grouped}, synced ${p.synced} / ${n} (errors ${p.errors}, connects ${p.connects})`);
      }
      return p.online === n && p.grouped === n && p.synced === n;
    }, 250)]);
    const syncedMs = Date.now() - tf;
    res.setup = { areasMs, importMs, uploadMs, onlineMs, syncedMs, communes: communes.length };
    log(`product ${n}: all online in ${onlineMs} ms, grouped and synced in ${syncedMs} ms`);
    const health = await api<{ clustersOnline: number }>(base, 'GET', '/healthz', null);
    if (health.clustersOnline !== n) log(`product ${n}: warning: server counts ${health.clustersOnline} online`);
    ss.setPhase('idle');
    fs.setPhase('idle');
    await sleep(5000);

    const targets = o.target === 'province' ? { areaIds: [PROVINCE] } : { areaIds: communes };
    for (let b = 0; b < o.broadcasts; b++) {
      await fleet.request({ type: 'arm' }, 'armed', 10_000);
      // The API is polled only once every device holds the order (or half the lead has passed): a poll costs the
      // server a read of every airing row, which must not be counted against the fan-out.
      const delivered = fleet.wait('delivered', o.leadMs + 60_000).catch(() => null);
      ss.setPhase('broadcast');
      fs.setPhase('broadcast');
      const m0 = monoUs();
      const t0 = now();
      const created = await api<{ id: string; startAt: string }>(base, 'POST', '/api/broadcasts', token, {
        title: `Cảnh báo khẩn cấp ${b + 1}`,
        level: 'emergency',
        source: { contentId: content.id },
        targets,
      });
      const apiMs = now() - t0;
      // The API view of delivery, polled until every cluster has started (or the budget runs out).
      let apiAllReceivedMs: number | null = null;
      let apiAllStartedMs: number | null = null;
      let apiDelivery: Delivery | null = null;
      const pollEnd = Date.now() + o.leadMs + 60_000;
      const poll = (async () => {
        await Promise.race([delivered, sleep(Math.max(0, t0 + o.leadMs / 2 - now()))]);
        while (Date.now() < pollEnd) {
          try {
            const v = await api<{ delivery: Delivery }>(base, 'GET', `/api/broadcasts/${created.id}`, token);
            const at = now() - t0;
            apiDelivery = v.delivery;
            if (apiAllReceivedMs === null && v.delivery.received >= n) apiAllReceivedMs = at;
            if (v.delivery.started >= n) {
              apiAllStartedMs = at;
              return;
            }
          } catch {
            /* keep polling */
          }
          await sleep(o.pollMs);
        }
      })();
      const col = await fleet.request({ type: 'collect', itemId: created.id, timeoutMs: o.leadMs + 45_000 }, 'collected', o.leadMs + 90_000);
      await poll;
      const rawRel = col.raw.map((x) => x - t0);
      const okRaw = rawRel.filter(Number.isFinite);
      const rawLast = okRaw.length ? Math.max(...okRaw) : null;
      windows.push({ name: `broadcast ${b + 1}: API call → last raw arrival`, fromUs: m0, toUs: m0 + Math.max(1, rawLast ?? apiMs) * 1000 });
      windows.push({ name: `broadcast ${b + 1}: API call → API shows all started`, fromUs: m0, toUs: m0 + Math.max(1, apiAllStartedMs ?? o.leadMs) * 1000 });
      const startedRel = col.started.map((x) => x - t0);
      const okStarted = startedRel.filter(Number.isFinite);
      const errs = col.startErrors;
      const run: BroadcastRun = {
        id: created.id,
        t0At: t0,
        apiMs: r1(apiMs)!,
        startAtMs: r1(Date.parse(created.startAt) - t0)!,
        raw: dist(rawRel),
        item: dist(col.item.map((x) => x - t0)),
        rawSpreadMs: okRaw.length ? r1(Math.max(...okRaw) - Math.min(...okRaw)) : null,
        allStartedMs: okStarted.length === n ? r1(Math.max(...okStarted)) : null,
        startedDist: dist(startedRel),
        apiAllReceivedMs: r1(apiAllReceivedMs),
        apiAllStartedMs: r1(apiAllStartedMs),
        apiDelivery,
        syncAbs: dist(errs.map(Math.abs)),
        syncSignedMedian: med(errs),
        syncSpreadMs: errs.length ? r1(Math.max(...errs) - Math.min(...errs)) : null,
        lateMaxMs: col.lateMs.length ? r1(Math.max(...col.lateMs)) : null,
        ordersAfterStart: col.item.filter((x) => x > Date.parse(created.startAt)).length,
        contentAfterStart: col.item.filter((x) => x + (o.contentFetch === 'assume' ? o.assumeDelayMs : 0) > Date.parse(created.startAt)).length,
        sought: col.sought,
        soughtMaxMs: col.soughtMaxMs,
        missingStarts: col.missingStarts,
        sync: col.sync,
        fleetElu: Math.round(col.elu * 100) / 100,
        orderBytes: col.orderBytes,
      };
      res.broadcasts.push(run);
      res.fleetStats = col.stats;
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`server died during broadcast ${b + 1}`);
      ss.setPhase('idle');
      fs.setPhase('idle');
      log(
        `product ${n} broadcast ${b + 1} (t0 ${t0.toFixed(1)}): API ${run.apiMs} ms; raw p50 ${run.raw.p50} p99 ${run.raw.p99} max ${run.raw.max} (first ${run.raw.min}, missing ${run.raw.missing}); ` +
          `item p99 ${run.item.p99} max ${run.item.max}; all started ${run.allStartedMs} ms (startAt +${run.startAtMs}), API shows all started ${run.apiAllStartedMs} ms; ` +
          `sync |e| p50 ${run.syncAbs.p50} p99 ${run.syncAbs.p99} max ${run.syncAbs.max} ms, missing ${run.missingStarts}, orders after the start ${run.ordersAfterStart}, content after the start ${run.contentAfterStart}, starts sought ${run.sought} (max ${run.soughtMaxMs} ms)`,
      );
      // let the 2 s airing finish and the finished reports drain before the next emergency
      await sleep(Math.max(0, (run.startAtMs ?? o.leadMs) + content.durationMs - (now() - t0)) + 4000);
    }
    res.ok = true;
  } catch (e) {
    res.error = String((e as Error).stack ?? e);
    const sc = server?.child;
    if (sc && (sc.exitCode !== null || sc.signalCode !== null)) {
      await sleep(300);
      const tail = readFileSync(serverLog, 'utf8').split('\n').slice(-25).join('\n');
      res.error = `server exited (code ${sc.exitCode}, signal ${sc.signalCode}) after ${res.broadcasts.length} broadcast(s); log tail:\n${tail}`;
    }
    log(`product ${n} failed: ${res.error}`);
  } finally {
    ss?.stop();
    fs?.stop();
    const bs = res.broadcasts;
    if (bs.length) {
      // medians over the broadcasts that completed (all of them unless the run failed part-way)
      res.median = {
        apiMs: med(bs.map((x) => x.apiMs)),
        raw: medDist(bs.map((x) => x.raw)),
        item: medDist(bs.map((x) => x.item)),
        rawSpreadMs: med(bs.map((x) => x.rawSpreadMs)),
        allStartedMs: med(bs.map((x) => x.allStartedMs)),
        apiAllStartedMs: med(bs.map((x) => x.apiAllStartedMs)),
        syncAbs: medDist(bs.map((x) => x.syncAbs)),
        syncSignedMedian: med(bs.map((x) => x.syncSignedMedian)),
        syncSpreadMs: med(bs.map((x) => x.syncSpreadMs)),
      };
    }
    if (ss && fs) {
      res.proc = {
        server: { connect: ss.summary('connect'), idle: ss.summary('idle'), broadcast: ss.summary('broadcast'), peakRssMb: Math.round(ss.peakHwmMb) },
        fleet: { connect: fs.summary('connect'), idle: fs.summary('idle'), broadcast: fs.summary('broadcast'), peakRssMb: Math.round(fs.peakHwmMb) },
      };
    }
    if (fleet) {
      try {
        await fleet.request({ type: 'stop' }, 'stopped', 40_000);
      } catch {
        /* killed below */
      }
      await stopChild(fleet.child, 5000);
    }
    await server?.stop(30_000);
  }
  if (o.profile && res.broadcasts.length) {
    try {
      const f = readdirSync(profDir).find((x) => x.endsWith('.cpuprofile'));
      if (f) {
        const file = join(profDir, f);
        res.profile = { file, windows: summariseProfile(file, windows) };
        for (const w of res.profile.windows) log(printProfile(w));
      }
    } catch (e) {
      log(`profile summary failed: ${String(e)}`);
    }
  }
  return res;
}

// ---------------------------------------------------------------- report

interface SizeResult {
  size: number;
  bare?: BareResult;
  product?: ProductResult;
  ratio?: { vsClient: { p50: number | null; p99: number | null; max: number | null }; vsInproc: { p50: number | null; p99: number | null; max: number | null } };
  /** product first arrival − bare (client) first arrival: an estimate of the time spent before the group publish */
  prePublishMs?: number | null;
}

function machine() {
  const model = cpus()[0]?.model ?? 'unknown';
  let nproc = cpus().length;
  try {
    nproc = Number(execFileSync('nproc').toString().trim());
  } catch {
    /* os.cpus() then */
  }
  // the server and simulator measured: the working tree as it is (other work may land while a run goes on)
  let commit: string | null = null;
  let dirty: string[] = [];
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT }).toString().trim();
    dirty = execFileSync('git', ['status', '--porcelain', '--', 'server', 'firmware-sim', 'schemas'], { cwd: ROOT }).toString().split('\n').filter(Boolean);
  } catch {
    /* not a git checkout */
  }
  return { nproc, cpu: model, memGb: Math.round(totalmem() / 2 ** 30), node: process.version, platform: `${process.platform} ${process.arch}`, date: new Date().toISOString(), commit, dirty };
}

function markdown(o: Options, results: SizeResult[]): string {
  const f = (x: number | null | undefined, d = 0) => (x === null || x === undefined ? '–' : x.toFixed(d));
  const L: string[] = [];
  L.push('| clusters | bare p50 / p99 / max (ms) | product order received p50 / p99 / max (ms) | ratio p50 / p99 / max | API response (ms) | first arrival (ms) | 100 % started: devices / API (ms) | sync error \\|e\\| p50 / p99 / max (ms) |');
  L.push('|---:|---|---|---|---:|---:|---|---|');
  for (const r of results) {
    const b = r.bare?.client;
    const p = r.product?.median;
    L.push(
      `| ${r.size} | ${f(b?.p50)} / ${f(b?.p99)} / ${f(b?.max)} | ${f(p?.raw.p50)} / ${f(p?.raw.p99)} / ${f(p?.raw.max)} | ` +
        `${f(r.ratio?.vsClient.p50, 2)} / ${f(r.ratio?.vsClient.p99, 2)} / ${f(r.ratio?.vsClient.max, 2)} | ${f(p?.apiMs)} | ${f(p?.raw.min)} | ` +
        `${f(p?.allStartedMs)} / ${f(p?.apiAllStartedMs)} | ${f(p?.syncAbs.p50, 1)} / ${f(p?.syncAbs.p99, 1)} / ${f(p?.syncAbs.max, 1)} |`,
    );
  }
  L.push('');
  L.push(`Bare = external QoS 1 publish of ${o.payloadBytes} B through aedes (default options) to N mqtt.js subscribers, median of ${o.bareReps} reps.`);
  L.push(`Product = POST /api/broadcasts (emergency, target ${o.target}) → play order at each cluster's mqtt.js client, median of ${o.broadcasts} broadcasts; LOA_SYNC_LEAD_MS ${o.leadMs}.`);
  L.push('');
  L.push('| clusters | bare in-process publish p50 / p99 / max | ratio vs in-process | first arrival bare / product (≈ time before the publish) | spread last − first: bare / product | product after 4G downlink (item) p50 / p99 / max | signed median / spread of start (ms) |');
  L.push('|---:|---|---|---|---|---|---|');
  for (const r of results) {
    const b = r.bare?.inproc;
    const c = r.bare?.client;
    const p = r.product?.median;
    const bSpread = c?.max != null && c?.min != null ? c.max - c.min : null;
    L.push(
      `| ${r.size} | ${f(b?.p50)} / ${f(b?.p99)} / ${f(b?.max)} | ${f(r.ratio?.vsInproc.p50, 2)} / ${f(r.ratio?.vsInproc.p99, 2)} / ${f(r.ratio?.vsInproc.max, 2)} | ` +
        `${f(c?.min)} / ${f(p?.raw.min)} (${f(r.prePublishMs)}) | ${f(bSpread)} / ${f(p?.rawSpreadMs)} | ` +
        `${f(p?.item.p50)} / ${f(p?.item.p99)} / ${f(p?.item.max)} | ${f(p?.syncSignedMedian, 1)} / ${f(p?.syncSpreadMs, 1)} |`,
    );
  }
  L.push('');
  L.push('Start error decomposition (median over broadcasts): |time-sync estimate error| at the last sync p50 / p99 / max; age of that sync at the start; |drift × age|; and the projected |start error| p99 had the broadcast come at an evenly spread moment of a re-sync interval of 600 / 300 / 120 / 60 s.');
  L.push('');
  L.push('| clusters | estimate error p50 / p99 / max (ms) | sync age p50 / max (s) | drift term p99 / max (ms) | model residual max (ms) | projected p99 at 600 / 300 / 120 / 60 s |');
  L.push('|---:|---|---|---|---:|---|');
  for (const r of results) {
    const bs = r.product?.broadcasts ?? [];
    if (!bs.length) continue;
    const m = (k: keyof FleetCollect['sync']) => med(bs.map((x) => x.sync[k] as number | null));
    const pj = (iv: number) => med(bs.map((x) => x.sync.projected.find((y) => y.intervalS === iv)?.p99 ?? null));
    L.push(
      `| ${r.size} | ${f(m('estimateAbsP50'), 1)} / ${f(m('estimateAbsP99'), 1)} / ${f(m('estimateAbsMax'), 1)} | ${f(m('ageP50S'))} / ${f(m('ageMaxS'))} | ` +
        `${f(m('driftAbsP99'), 1)} / ${f(m('driftAbsMax'), 1)} | ${f(m('residualAbsMax'), 1)} | ${f(pj(600), 1)} / ${f(pj(300), 1)} / ${f(pj(120), 1)} / ${f(pj(60), 1)} |`,
    );
  }
  return L.join('\n');
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const ri = process.argv.indexOf('--report');
  if (ri > 0) {
    // print the markdown of an earlier results file again
    const j = JSON.parse(readFileSync(resolve(process.argv[ri + 1]), 'utf8')) as { options: Options; results: SizeResult[] };
    process.stdout.write(`${markdown(j.options, j.results)}\n`);
    return;
  }
  const o = parseArgs(process.argv.slice(2));
  const { logDir, out, save: write } = resultsFiles('broadcast-', o.out);
  const watchdog = startWatchdog(o.maxMinutes, 3, log);
  const m = machine();
  log(`broadcast bench: sizes ${o.sizes.join(',')}, parts ${o.parts.join(',')}; ${m.nproc} cpus (${m.cpu}), ${m.memGb} GB, node ${m.node}; commit ${m.commit}${m.dirty.length ? ` + ${m.dirty.length} changed file(s) in server/firmware-sim/schemas` : ''}; logs in ${logDir}`);
  const results: SizeResult[] = [];
  const save = () => write({ options: o, machine: m, results });
  for (const n of o.sizes) {
    const r: SizeResult = { size: n };
    results.push(r);
    if (o.parts.includes('bare')) {
      r.bare = await runBare(o, n, logDir);
      save();
    }
    if (o.parts.includes('product')) {
      r.product = await runProduct(o, n, logDir);
      save();
    }
    const b = r.bare;
    const p = r.product?.median;
    if (b?.client && b.inproc && p) {
      r.ratio = {
        vsClient: { p50: ratio(p.raw.p50, b.client.p50), p99: ratio(p.raw.p99, b.client.p99), max: ratio(p.raw.max, b.client.max) },
        vsInproc: { p50: ratio(p.raw.p50, b.inproc.p50), p99: ratio(p.raw.p99, b.inproc.p99), max: ratio(p.raw.max, b.inproc.max) },
      };
      r.prePublishMs = p.raw.min !== null && b.client.min !== null ? r1(p.raw.min - b.client.min) : null;
    }
    save();
  }
  clearTimeout(watchdog);
  process.stdout.write(`\n${markdown(o, results)}\n\nresults: ${out}\n`);
}

runMain(main, log);
