/**
 * Fleet benchmark orchestrator: the same simulated fleet against a bare aedes broker and against the Loa Xã server,
 * each target in its own child process (so its CPU and RSS are read from /proc apart from the load generator), the
 * clients in another child (bench/clients.ts).
 *
 *   npm run bench                                  # sizes 1000,5000,10000, 60 s telemetry, 20 s saturation
 *   npm run bench -- --quick                       # smoke run: 200 clusters, short phases
 *   npm run bench -- --sizes 10000 --targets loa --profile   # + CPU profile of the server
 *   npm run bench -- planner [--help]                         # the planner and timetable bench (bench/planner.ts)
 *   npm run bench -- live-relay [--help]                      # one relay to 1,000 clusters, direct / via Icecast / Icecast alone (bench/live-relay.ts)
 *
 * Phases per (size, target): idle (3 s) → storm (connect all, concurrency-bounded) → steady (every cluster reports
 * every 10 s, spread evenly) → saturation (every cluster reports as often as the per-client rate limit allows, total
 * capped by --saturation-rate) → drain → subscribe step (every device subscribes and sends its birth, bounded by
 * --subscribe-timeout-s). See bench/README.md.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { FromClients, Member, PhaseResult, ToClients } from './clients.ts';
import type { FromBare, ToBare } from './bare-aedes.ts';
import { markdown, targetsVerdict, type HeapInfo, type Lat, type ProcSummary, type RunResult } from './report.ts';
import { ProcSampler, SystemSampler } from './proc.ts';
import { printSummary, summarise, type Window } from './profile.ts';
import { Ipc, ROOT, exitRejection, machineInfo, freePort, guardChildren, resultsFiles, runMain, sh, sleep, spawnNode, startWatchdog, stopChild, tcpOpen, until, waitExit } from './harness.ts';
import { PROVINCE, api, benchEnv, memberId, provisionFleet, serverFromRef, startLoaServer, type LoaServer } from './loa-server.ts';

const say = (line: string) => process.stderr.write(`${line}\n`);
guardChildren(say);

// ---------------------------------------------------------------- options

interface Options {
  sizes: number[];
  targets: ('bare' | 'loa')[];
  telemetrySeconds: number;
  intervalS: number;
  saturationSeconds: number;
  saturationRate: number;
  maxPerClientHz: number;
  concurrency: number;
  connectRate: number;
  stormTimeoutS: number;
  subscribeTimeoutS: number;
  repeat: number;
  profile: boolean;
  heapSnapshot: boolean;
  /** git ref of the server to run ('worktree' = the working tree as it is) */
  serverRef: string;
  /** extra node flags for the server child, e.g. "--max-old-space-size=256" */
  serverNodeArgs: string[];
  maxMinutes: number;
  out: string | null;
  /** storm phase only (more repeats of the headline figure in little time) */
  stormOnly: boolean;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    sizes: [1000, 5000, 10000],
    targets: ['bare', 'loa'],
    telemetrySeconds: 60,
    intervalS: 10,
    saturationSeconds: 20,
    saturationRate: 30_000,
    maxPerClientHz: 15,
    concurrency: 500,
    connectRate: 0,
    stormTimeoutS: 120,
    subscribeTimeoutS: 45,
    repeat: 1,
    profile: false,
    heapSnapshot: false,
    serverRef: 'HEAD',
    serverNodeArgs: [],
    maxMinutes: 45,
    out: null,
    stormOnly: false,
  };
  const num = (v: string | undefined, name: string) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`${name} needs a number, got ${v}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const val = () => inline ?? argv[++i];
    switch (flag) {
      case '--sizes': o.sizes = val().split(',').map((s) => num(s, '--sizes')); break;
      case '--targets': o.targets = val().split(',').map((t) => { if (t !== 'bare' && t !== 'loa') throw new Error(`unknown target ${t}`); return t; }); break;
      case '--telemetry-seconds': o.telemetrySeconds = num(val(), flag); break;
      case '--interval-s': o.intervalS = num(val(), flag); break;
      case '--saturation-seconds': o.saturationSeconds = num(val(), flag); break;
      case '--saturation-rate': o.saturationRate = num(val(), flag); break;
      case '--max-per-client-hz': o.maxPerClientHz = num(val(), flag); break;
      case '--concurrency': o.concurrency = num(val(), flag); break;
      case '--connect-rate': o.connectRate = num(val(), flag); break;
      case '--storm-timeout-s': o.stormTimeoutS = num(val(), flag); break;
      case '--subscribe-timeout-s': o.subscribeTimeoutS = num(val(), flag); break;
      case '--repeat': o.repeat = Math.max(1, num(val(), flag)); break;
      case '--profile': o.profile = true; break;
      case '--heap-snapshot': o.heapSnapshot = true; break;
      case '--server-ref': o.serverRef = val(); break;
      case '--server-node-args': o.serverNodeArgs = val().split(' ').filter(Boolean); break;
      case '--max-minutes': o.maxMinutes = num(val(), flag); break;
      case '--out': o.out = val(); break;
      case '--storm-only': o.stormOnly = true; break;
      case '--quick':
        o.sizes = [200];
        o.telemetrySeconds = 15;
        o.saturationSeconds = 8;
        o.subscribeTimeoutS = 20;
        o.intervalS = 5;
        break;
      case '--help':
      case '-h':
        process.stdout.write(readmeUsage());
        process.exit(0);
      // eslint-disable-next-line no-fallthrough
      default:
        throw new Error(`unknown option ${a} (try --help)`);
    }
  }
  if (o.intervalS < 5) throw new Error('--interval-s must be ≥ 5 (the server accepts LOA_TELEMETRY_INTERVAL_S ≥ 5)');
  return o;
}

function readmeUsage(): string {
  return `npm run bench -- [--sizes 1000,5000,10000] [--targets bare,loa] [--telemetry-seconds 60] [--interval-s 10]
  [--saturation-seconds 20] [--saturation-rate 30000] [--max-per-client-hz 15] [--concurrency 500] [--connect-rate 0]
  [--storm-timeout-s 120] [--subscribe-timeout-s 45] [--repeat 1] [--profile] [--heap-snapshot]
  [--server-ref HEAD|<git ref>|worktree] [--server-node-args "--max-old-space-size=256"] [--max-minutes 45]
  [--out file.json] [--storm-only] [--quick]
npm run bench -- planner [--help]      (planner and timetable: bench/planner.ts)
npm run bench -- live-relay [--help]   (live relay to 1,000 clusters, direct / via Icecast / Icecast alone: bench/live-relay.ts)
`;
}

// ---------------------------------------------------------------- /metrics

/** Value of one series in Prometheus text format (first match; labels as a literal substring like `quantile="0.5"`). */
function metric(text: string, name: string, labels = ''): number | null {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    if (labels && !rest.includes(labels)) continue;
    const v = Number(line.slice(line.lastIndexOf(' ') + 1));
    return Number.isFinite(v) ? v : null;
  }
  return null;
}
function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue;
    const v = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(v)) sum += v;
  }
  return sum;
}

const SAT_WARMUP_MS = 3000;
const CLUSTERS_PER_COMMUNE = 100;
const CLUSTERS_PER_HAMLET = 10;
const communeOf = (i: number) => `bench-c${String(Math.floor(i / CLUSTERS_PER_COMMUNE)).padStart(3, '0')}`;
const hamletOf = (i: number) => `${communeOf(i)}-h${String(Math.floor((i % CLUSTERS_PER_COMMUNE) / CLUSTERS_PER_HAMLET)).padStart(2, '0')}`;
/** Same ids and group topics on both targets: province, commune, hamlet, 100 clusters per commune, 10 per hamlet. */
function groupsOf(i: number): string[] {
  return [`a-${PROVINCE}`, `a-${communeOf(i)}`, `a-${hamletOf(i)}`];
}

// ---------------------------------------------------------------- one run

function heapOf(t: string | null): HeapInfo | null {
  if (t === null) return null;
  const mb = (x: number | null) => (x === null ? null : Math.round(x / 2 ** 20));
  return {
    heapUsedMb: mb(metric(t, 'loa_process_nodejs_heap_size_used_bytes')),
    heapTotalMb: mb(metric(t, 'loa_process_nodejs_heap_size_total_bytes')),
    externalMb: mb(metric(t, 'loa_process_nodejs_external_memory_bytes')),
    rssMb: mb(metric(t, 'loa_process_resident_memory_bytes')),
  };
}

async function runOne(o: Options, target: 'bare' | 'loa', n: number, rep: number, logDir: string, serverDir: string): Promise<RunResult> {
  const r: RunResult = { target, size: n, rep, ok: false };
  const tag = `${target}-${n}-r${rep}`;
  const env = benchEnv();
  const profDir = join(logDir, `prof-${tag}`);
  const profiling = o.profile;
  const windows: Window[] = [];
  const mark = (name: string) => {
    const w = windows[windows.length - 1];
    if (w && w.to === Infinity) w.to = Date.now();
    if (name) windows.push({ name, from: Date.now(), to: Infinity });
  };
  let loa: LoaServer | null = null;
  let bareProc: ChildProcess | null = null;
  let targetIpc: Ipc<FromBare, ToBare> | null = null;
  let clients: Ipc<FromClients, ToClients> | null = null;
  let subscriber: Ipc<FromClients, ToClients> | null = null;
  let tSampler: ProcSampler | null = null;
  let cSampler: ProcSampler | null = null;
  let sSampler: ProcSampler | null = null;
  let sysSampler: SystemSampler | null = null;
  try {
    // 1. target
    const extra = profiling ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [];
    if (o.heapSnapshot) extra.push('--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${profDir}`);
    const targetLog = join(logDir, `${tag}.target.log`);
    let mqttPort: number;
    let exited: Promise<never>;
    if (target === 'bare') {
      const port = await freePort();
      bareProc = spawnNode([...extra, '--import', 'tsx', 'bench/bare-aedes.ts', String(port)], env, targetLog, true);
      targetIpc = new Ipc<FromBare, ToBare>(bareProc, 'target', say);
      exited = exitRejection(bareProc, 'target', targetLog);
      await Promise.race([exited, until('target to listen', 60_000, () => tcpOpen(port))]);
      mqttPort = port;
    } else {
      loa = await startLoaServer({
        serverDir,
        logFile: targetLog,
        name: 'target',
        dataDirPrefix: `loa-bench-${tag}-`,
        nodeArgs: [...o.serverNodeArgs, ...extra],
        env: { LOA_TELEMETRY_INTERVAL_S: String(o.intervalS) },
      });
      mqttPort = loa.mqttPort;
      exited = loa.exited;
    }
    const base = loa?.base ?? '';
    const tp = loa?.child ?? bareProc!;
    const pid = tp.pid!;

    // 2. fleet
    let members: Member[];
    let token: string | null = null;
    if (loa) {
      const p = await Promise.race([exited, provisionFleet(base, loa.password, n, [{ kind: 'commune', idOf: communeOf }, { kind: 'hamlet', idOf: hamletOf }])]);
      members = p.members.map((m, i) => ({ ...m, groups: groupsOf(i) }));
      token = p.token;
      r.setup = { importMs: p.importMs, areasMs: p.areasMs };
    } else {
      members = Array.from({ length: n }, (_, i) => ({ id: memberId(i), secret: randomBytes(24).toString('base64url'), groups: groupsOf(i) }));
    }
    const cp = spawnNode(['--max-old-space-size=6144', '--import', 'tsx', 'bench/clients.ts'], env, join(logDir, `${tag}.clients.log`), true);
    clients = new Ipc<FromClients, ToClients>(cp, 'clients', (line) => say(`  ${line}`));
    clients.send({ type: 'init', url: `mqtt://127.0.0.1:${mqttPort}`, members, concurrency: o.concurrency, connectRate: o.connectRate, stormTimeoutMs: o.stormTimeoutS * 1000, subscriber: false });
    await clients.wait('inited', 60_000);
    if (target === 'bare') {
      // the external telemetry subscriber gets a process of its own, so it does not share an event loop with N publishers
      subscriber = new Ipc<FromClients, ToClients>(spawnNode(['--import', 'tsx', 'bench/clients.ts'], env, join(logDir, `${tag}.subscriber.log`), true), 'subscriber', (line) => say(`  ${line}`));
      subscriber.send({ type: 'init', url: `mqtt://127.0.0.1:${mqttPort}`, members: [], concurrency: 1, connectRate: 0, stormTimeoutMs: 1000, subscriber: true });
      await subscriber.wait('inited', 60_000);
    }
    // let the import's config publishes and GC settle, then measure idle
    await sleep(2000);
    tSampler = new ProcSampler(pid);
    cSampler = new ProcSampler(cp.pid!);
    if (subscriber) sSampler = new ProcSampler(subscriber.child.pid!);
    sysSampler = new SystemSampler();
    await sleep(3000);
    const heap: Record<string, HeapInfo | null> = {};
    if (target === 'loa') heap.idle = heapOf(await (await fetch(base + '/metrics')).text());
    const setPhase = (p: string) => {
      tSampler!.setPhase(p);
      cSampler!.setPhase(p);
      sSampler?.setPhase(p);
      sysSampler!.setPhase(p);
      mark(p);
    };

    // 3. reconnect storm
    setPhase('storm');
    clients.send({ type: 'storm' });
    const stormP = clients.wait('storm', o.stormTimeoutS * 1000 + 30_000);
    let apiAllAt: number | null = null;
    const apiP = target === 'loa'
      ? (async () => {
          const end = Date.now() + o.stormTimeoutS * 1000 + 10_000;
          while (Date.now() < end) {
            try {
              const h = await api<{ clustersOnline: number }>(base, 'GET', '/healthz', null);
              if (h.clustersOnline >= n) return (apiAllAt = Date.now());
            } catch {
              /* keep polling */
            }
            await sleep(100);
          }
          return null;
        })()
      : Promise.resolve(null);
    const progress = setInterval(() => {
      const p = clients!.latest('progress');
      if (p) process.stderr.write(`  [${tag}] storm ${(p.elapsedMs / 1000).toFixed(0)} s: ${p.connacked} connacked, ${p.ready} ready\n`);
    }, 5000);
    const storm = (await Promise.race([exited, stormP])).result;
    await Promise.race([exited, apiP]);
    clearInterval(progress);
    let apiListOnlineTotal: number | null = null;
    let apiListMs: number | null = null;
    if (target === 'loa') {
      const t = Date.now();
      apiListOnlineTotal = (await api<{ total: number }>(base, 'GET', '/api/clusters?online=true&limit=1', token)).total;
      apiListMs = Date.now() - t;
    }
    r.storm = { ...storm, apiAllOnlineMs: apiAllAt ? apiAllAt - storm.t0 : null, apiListOnlineTotal, apiListMs };
    process.stderr.write(`  [${tag}] storm: connack-all ${fmtS(storm.connackAllMs)} s, ready-all ${fmtS(storm.readyAllMs)} s${target === 'loa' ? `, API all online ${fmtS(r.storm.apiAllOnlineMs)} s (list total ${apiListOnlineTotal}, ${apiListMs} ms)` : ''}\n`);

    if (o.stormOnly) {
      mark('');
      r.ok = true;
      return r;
    }

    /** One telemetry phase: publishers in `clients`, external deliveries (bare, steady only) counted by `subscriber`. */
    const runTelemetry = async (m: Extract<ToClients, { type: 'telemetry' }>): Promise<PhaseResult> => {
      subscriber?.send(m);
      clients!.send(m);
      const [pub, sub] = await Promise.all([
        clients!.wait('phase', m.durationMs + 60_000),
        subscriber ? subscriber.wait('phase', m.durationMs + 60_000) : Promise.resolve(null),
      ]);
      if (!sub) return pub.result;
      return { ...pub.result, delivered: sub.result.delivered, deliveredPerS: sub.result.deliveredPerS, deliveryMs: sub.result.deliveryMs };
    };
    const scrape = async () => (target === 'loa' ? await (await fetch(base + '/metrics')).text() : null);
    /** Telemetry messages processed so far: loa = rows committed; bare = messages seen by the in-process listener. */
    const processed = async (): Promise<number> => {
      if (target === 'loa') return metric((await scrape())!, 'loa_telemetry_rows_written_total') ?? 0;
      return (await targetIpc!.request({ type: 'count' }, 'count', 10_000)).count;
    };
    const latStart = async () => {
      if (target === 'bare') {
        await targetIpc!.request({ type: 'lat-start' }, 'lat-started', 10_000);
      }
    };
    /** loa: the persist-latency summary (60 s sliding window); bare: publish → in-process listener since latStart. */
    const latEnd = async (): Promise<Lat | null> => {
      if (target === 'bare') {
        const { q } = await targetIpc!.request({ type: 'lat-stop' }, 'lat', 30_000);
        return { p50: q.p50, p90: q.p90, p99: q.p99 };
      }
      const t = (await scrape())!;
      return {
        p50: ms(metric(t, 'loa_telemetry_persist_latency_seconds', 'quantile="0.5"')),
        p90: ms(metric(t, 'loa_telemetry_persist_latency_seconds', 'quantile="0.9"')),
        p99: ms(metric(t, 'loa_telemetry_persist_latency_seconds', 'quantile="0.99"')),
      };
    };
    /**
     * Waits until the processed counter stops moving (loa: two flushes without a row). lastChangeAt is when the final
     * value was first seen — an upper bound on when the last message of the phase was processed.
     */
    const drain = async (from: number) => {
      const t = Date.now();
      let last = await processed();
      let lastChangeAt = Date.now();
      for (let i = 0; i < 60; i++) {
        await sleep(500);
        const now = await processed();
        if (now === last) break;
        last = now;
        lastChangeAt = Date.now();
      }
      return { drainMs: Date.now() - t, after: last - from, lastChangeAt };
    };

    // 4. steady telemetry
    setPhase('steady');
    const c0 = await processed();
    await latStart();
    const steady = await Promise.race([exited, runTelemetry({ type: 'telemetry', phase: 'steady', intervalMs: o.intervalS * 1000, durationMs: o.telemetrySeconds * 1000 })]);
    tSampler.setPhase('steady-tail');
    cSampler.setPhase('steady-tail');
    sSampler?.setPhase('steady-tail');
    sysSampler.setPhase('steady-tail');
    mark('');
    await sleep(target === 'loa' ? 1200 : 0); // the flush job runs every 500 ms
    const c1 = await processed();
    const steadyLat = await latEnd();
    if (target === 'loa') heap.steady = heapOf(await scrape());
    if (o.heapSnapshot) {
      // diagnostic only: writing the snapshot stalls the target for seconds, so later phases are disturbed
      mkdirSync(profDir, { recursive: true });
      tp.kill('SIGUSR2');
      const file = await until('heap snapshot', 180_000, async () => {
        const f = readdirSync(profDir).find((x) => x.endsWith('.heapsnapshot'));
        if (!f) return null;
        await sleep(1000);
        // done when the target answers again (it writes synchronously)
        const alive = target === 'loa' ? (await fetch(base + '/healthz')).ok : (await processed()) >= 0;
        return alive ? join(profDir, f) : null;
      }, 1000);
      r.heapSnapshot = file;
      process.stderr.write(`  [${tag}] heap snapshot: ${file} (summarise with: node --max-old-space-size=16000 --import tsx bench/heap.ts ${file})\n`);
    }
    r.steady = {
      ...steady,
      rows: c1 - c0,
      rowsPerS: ((c1 - c0) / steady.durationMs) * 1000,
      latencyMs: steadyLat,
      subscriberMs: steady.deliveryMs,
    };
    process.stderr.write(`  [${tag}] steady: sent ${steady.sentPerS.toFixed(0)}/s, processed ${r.steady.rowsPerS?.toFixed(0)}/s, p50 ${steadyLat?.p50} ms p99 ${steadyLat?.p99} ms${steady.deliveryMs ? ` (external subscriber: ${steady.deliveredPerS?.toFixed(0)}/s, p50 ${steady.deliveryMs.p50} ms p99 ${steady.deliveryMs.p99} ms)` : ''}, cpu median ${tSampler.summary('steady').cpuMedianPct?.toFixed(1)}%\n`);

    // The external subscriber takes part in the steady window only: under overload aedes' fan-out to one socket
    // (mqemitter's queue) becomes the bottleneck and would hide what the broker itself can ingest.
    if (subscriber) {
      subscriber.send({ type: 'stop' });
      await waitExit(subscriber.child, 10_000);
      sSampler?.stop();
      sSampler = null;
      subscriber = null;
    }

    // 5. saturation
    const hz = Math.min(o.maxPerClientHz, o.saturationRate / n);
    const intervalMs = 1000 / hz;
    setPhase('saturation');
    const s0 = await processed();
    await latStart();
    const satStart = Date.now();
    const satP = runTelemetry({ type: 'telemetry', phase: 'saturation', intervalMs, durationMs: o.saturationSeconds * 1000, warmupMs: SAT_WARMUP_MS });
    const sw = (async () => {
      await sleep(SAT_WARMUP_MS);
      const a = await processed();
      const at = Date.now();
      await sleep(Math.max(0, satStart + o.saturationSeconds * 1000 - Date.now()));
      const b = await processed();
      return { a, b, ms: Date.now() - at };
    })();
    const sat = await Promise.race([exited, satP]);
    const { a: sa, b: sb, ms: satWindowMs } = await sw;
    const satLat = await latEnd();
    tSampler.setPhase('drain');
    cSampler.setPhase('drain');
    sysSampler.setPhase('drain');
    mark('drain');
    const dr = await drain(s0);
    r.saturation = {
      ...sat,
      intervalMs,
      rows: sb - s0,
      // Sustained throughput: everything the phase sent, over phase start → last one processed (backlog included).
      // A rate read over a window inside the phase is skewed when the server is saturated: the scrapes themselves
      // wait for the busy event loop, and the row counter moves in 500 ms flush steps.
      rowsPerS: (dr.after / Math.max(1, dr.lastChangeAt - satStart)) * 1000,
      windowRowsPerS: ((sb - sa) / satWindowMs) * 1000,
      processedAllAfterMs: dr.lastChangeAt - satStart,
      latencyMs: satLat,
      drainMs: dr.drainMs,
      rowsAfterDrain: dr.after,
    };
    process.stderr.write(`  [${tag}] saturation: offered ${((sat.offered / sat.durationMs) * 1000).toFixed(0)}/s, sent ${sat.sentPerS.toFixed(0)}/s, processed ${r.saturation.rowsPerS?.toFixed(0)}/s sustained (${dr.after} of ${sat.sent}, the last ${((dr.lastChangeAt - satStart) / 1000).toFixed(1)} s after the start), p50 ${satLat?.p50} ms, cpu median ${tSampler.summary('saturation').cpuMedianPct?.toFixed(1)}%\n`);
    if (target === 'loa') {
      const m = await scrape();
      heap.drained = heapOf(m);
      r.server = { rejected: metricSum(m!, 'loa_mqtt_messages_rejected_total'), onlineAtEnd: (await api<{ clustersOnline: number }>(base, 'GET', '/healthz', null)).clustersOnline, heap };
    }

    // 6. subscribe step (last: devices waiting in this queue send nothing, and the server's heartbeat timeout would
    //    flap them offline if telemetry came after it)
    setPhase('subscribe');
    clients.send({ type: 'subscribe', timeoutMs: o.subscribeTimeoutS * 1000 });
    const progress2 = setInterval(() => {
      const p = clients!.latest('progress');
      if (p) process.stderr.write(`  [${tag}] subscribe ${(p.elapsedMs / 1000).toFixed(0)} s: ${p.ready} done\n`);
    }, 10_000);
    const sub = (await Promise.race([exited, clients.wait('subscribed', o.subscribeTimeoutS * 1000 + 30_000)])).result;
    clearInterval(progress2);
    const subSeconds = (sub.readyAllMs ?? o.subscribeTimeoutS * 1000) / 1000;
    r.subscribe = { ...sub, perS: sub.ready / subSeconds };
    process.stderr.write(`  [${tag}] subscribe+birth: ${sub.ready}/${n} in ${subSeconds.toFixed(1)} s (${r.subscribe.perS.toFixed(0)}/s), SUBACK p50 ${sub.connectMs.p50} ms; devices got ${sub.retainedReceived} retained + ${sub.messagesReceived} live messages\n`);
    mark('');
    r.ok = true;
  } catch (e) {
    r.error = String((e as Error)?.message ?? e);
    process.stderr.write(`  [${tag}] FAILED: ${r.error}\n`);
  } finally {
    tSampler?.stop();
    cSampler?.stop();
    sSampler?.stop();
    sysSampler?.stop();
    const phases = ['idle', 'storm', 'steady', 'saturation', 'subscribe'];
    const summary = (s: ProcSampler): ProcSummary => Object.assign(Object.fromEntries(phases.map((p) => [p, s.summary(p)])), { peakRssMb: s.peakHwmMb });
    if (tSampler) r.target_proc = summary(tSampler);
    if (cSampler) r.clients_proc = summary(cSampler);
    if (sSampler) r.subscriber_proc = summary(sSampler);
    if (sysSampler) {
      // CPU that neither the target nor the bench's own processes used: other work on the machine during the phase
      const own = (p: string) => (r.target_proc?.[p]?.cpuMeanPct ?? 0) + (r.clients_proc?.[p]?.cpuMeanPct ?? 0) + (r.subscriber_proc?.[p]?.cpuMeanPct ?? 0);
      r.noise = Object.fromEntries(phases.map((p) => { const all = sysSampler!.meanPct(p); return [p, all === null ? null : Math.max(0, all - own(p))]; }));
    }
    for (const c of [clients, subscriber]) {
      if (!c) continue;
      try {
        c.send({ type: 'stop' });
      } catch {
        /* already gone */
      }
      if (!(await waitExit(c.child, 10_000))) c.child.kill('SIGKILL');
    }
    // V8 monotonic clock (profile timestamps, µs) → wall clock: both it and process.hrtime read CLOCK_MONOTONIC
    const wallOffsetMs = Date.now() - Number(process.hrtime.bigint()) / 1e6;
    if (loa) await loa.stop(20_000);
    else await stopChild(bareProc, 20_000);
    if (profiling && existsSync(profDir)) {
      const f = readdirSync(profDir).find((x) => x.endsWith('.cpuprofile'));
      if (f) {
        const file = join(profDir, f);
        r.profile = { file, summaries: summarise(file, windows.filter((w) => w.to !== Infinity), wallOffsetMs) };
      }
    }
  }
  return r;
}

const ms = (s: number | null) => (s === null ? null : Math.round(s * 10000) / 10);
const fmtS = (x: number | null | undefined) => (x === null || x === undefined ? '—' : (x / 1000).toFixed(2));

// ---------------------------------------------------------------- main

function pkgVersion(name: string): string | null {
  try {
    return JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  // `npm run bench -- planner …`: the planner and timetable bench, in this process (no children, no broker)
  if (process.argv[2] === 'planner') return (await import('./planner.ts')).plannerMain(process.argv.slice(3));
  // `npm run bench -- live-relay …`: the live-audio bench, its own children and results file
  if (process.argv[2] === 'live-relay') return (await import('./live-relay.ts')).liveRelayMain(process.argv.slice(3));
  const o = parseArgs(process.argv.slice(2));
  const { logDir, out, save: write } = resultsFiles('', o.out);
  const deadline = startWatchdog(o.maxMinutes, 124, say);
  const serverDir = serverFromRef(o.serverRef);
  const machine = machineInfo(o.serverRef, { aedes: pkgVersion('aedes'), mqtt: pkgVersion('mqtt') });
  process.stderr.write(`bench: sizes ${o.sizes.join(',')}, targets ${o.targets.join(',')}, steady ${o.telemetrySeconds} s @ ${o.intervalS} s, saturation ${o.saturationSeconds} s, concurrency ${o.concurrency}, repeat ${o.repeat}, server ${machine.serverCommit}\n`);
  const results: RunResult[] = [];
  const save = () => write({ options: o, machine, results });
  for (let rep = 1; rep <= o.repeat; rep++) {
    for (const n of o.sizes) {
      for (const t of o.targets) {
        process.stderr.write(`run ${rep}/${o.repeat}: ${t}, ${n} clusters\n`);
        results.push(await runOne(o, t, n, rep, logDir, serverDir));
        save();
        await sleep(2000);
      }
    }
  }
  clearTimeout(deadline);
  const md = markdown(results, o.sizes) + '\n' + targetsVerdict(results) + '\n';
  process.stdout.write('\n' + md);
  for (const r of results) if (r.profile) for (const s of r.profile.summaries) process.stdout.write(`\n_${r.target}, ${r.size} clusters:_\n\n${printSummary(s)}\n`);
  process.stdout.write(`\nresults: ${out}\nlogs: ${logDir}\n`);
}

runMain(main, (line) => say(`bench ${line}`));
