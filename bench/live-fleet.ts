/**
 * Child process of bench/live-relay.ts: the listeners of a live stream, driven over IPC. Two kinds:
 *
 *  - `sim`: a firmware-sim SimFleet (protocol v1.2). Each cluster connects over MQTT, syncs its clock, gets the relay
 *    broadcast's stream item and plays the stream (its own HTTP connection, to the server or to Icecast). From every
 *    `streamPage` event (one per page heard: its stamped instant `targetMs` and the true instant it was heard,
 *    `trueMs`, computed from the device clock, so it holds on a loaded box) it keeps, per cluster: the first page
 *    heard, and every page's (targetMs, trueMs − targetMs, bytes).
 *  - `raw`: N plain HTTP GETs of one URL that only count bytes (the listeners of the "Icecast alone" baseline: a
 *    Loa cluster needs a Loa server to be told what to play).
 *
 * On `collect` it summarises a window [fromMs, toMs) of true time: bytes per listener, the spread between
 * clusters of every page's true instant (min/max per granule, merged across processes by the orchestrator), the
 * first heard page's error, underruns and drops, and, for the marker instants the orchestrator found in the
 * stream, each cluster's true speaker instant (glass-to-speaker). The per-page error is against a server on true
 * time (the server's clock is this machine's).
 */
import { request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { DeviceClock, SimFleet, type FleetStats, type StreamPageEvent, type TimeSyncEstimator } from '../firmware-sim/src/index.ts';

export interface LiveFleetInit {
  type: 'init';
  mode: 'sim' | 'raw';
  /** sim: MQTT and HTTP of the server */
  url: string;
  http: string;
  members: { id: string; secret: string }[];
  /** sim: a group every cluster follows (ready once the broker granted it) */
  group: string;
  connectRate: number;
  concurrency: number;
  skewMs: number;
  driftPpm: number;
  samples: number;
  estimator: TimeSyncEstimator;
  /** raw: the URL every listener GETs, and how many */
  rawUrl?: string;
  rawCount?: number;
}
/** A marker as heard: its nominal speaker instant (server timeline, latency included) and its glass instant. */
export interface MarkerAt {
  serverMs: number;
  glassMs: number;
}
export type ToLiveFleet =
  | LiveFleetInit
  | { type: 'start' }
  | { type: 'collect'; fromMs: number; toMs: number; markers: MarkerAt[] }
  | { type: 'stop' };

export interface LiveProgress {
  type: 'progress';
  online: number;
  grouped: number;
  synced: number;
  total: number;
  /** clusters that heard at least one page / raw listeners with a 200 */
  listening: number;
  errors: number;
}
export interface LiveCollected {
  type: 'collected';
  listeners: number;
  /** bytes received in the window per listener (sim: pages heard; raw: body bytes) */
  bytes: number[];
  windowS: number;
  /** sim: per granule heard in the window, [granule, minErr, maxErr, n] (err = trueMs − targetMs) */
  pages: [number, number, number, number][];
  /** sim: the first page each cluster heard: its error (trueMs − targetMs), its true instant, its granule */
  first: { errMs: number; trueMs: number; granule: number }[];
  /** sim: per cluster, max − min of its own page errors in the window (its offset moved: a re-sync, drift) */
  errRange: number[];
  /** sim: per (cluster, marker) the true speaker instant − glass instant; NaN when that cluster did not hear it */
  glass: number[];
  glassMissing: number;
  underruns: number;
  gapMs: number;
  droppedLate: number;
  pagesPlayed: number;
  streamConnects: number;
  streamErrors: number;
  /** sim: why stream connections failed, by detail */
  streamFailures: Record<string, number>;
  /** raw: responses that were not 200 / connections that broke */
  rawErrors: number;
  /** event-loop utilisation of this process over the window (is the load generator itself saturated?) */
  elu: number;
  fleet: FleetStats | null;
  airings: { started: number; finished: number; failed: number; underrunReports: number };
}
export type FromLiveFleet = LiveProgress | { type: 'inited' } | LiveCollected | { type: 'stopped' } | { type: 'error'; message: string };

const trueNow = () => performance.timeOrigin + performance.now();
const send = (m: FromLiveFleet) => process.send?.(m);

let init: LiveFleetInit | null = null;
let fleet: SimFleet | null = null;
let progressTimer: NodeJS.Timeout | null = null;
let itemId: string | null = null;

/** Per cluster: pages heard, in order (stamped instant, error, bytes), and the first one. */
interface Heard {
  target: number[];
  err: number[];
  granule: number[];
  bytes: number[];
  first: { errMs: number; trueMs: number; granule: number } | null;
}
let heard: Heard[] = [];
/** why stream connections failed (the sim logs it at debug level), by detail */
const streamFailures = new Map<string, number>();
const countingLogger = {
  debug: (o: object, msg?: string) => {
    if (msg === 'stream connection failed') {
      const d = String((o as { detail?: unknown }).detail ?? '?');
      streamFailures.set(d, (streamFailures.get(d) ?? 0) + 1);
    }
  },
  info: () => {},
  warn: () => {},
  error: () => {},
};

/** raw listeners: (true ms, bytes) of every chunk */
interface RawListener {
  at: number[];
  n: number[];
  ok: boolean;
  broken: boolean;
}
let raws: RawListener[] = [];
let rawErrors = 0;
const eluMarks = new Map<number, ReturnType<typeof performance.eventLoopUtilization>>();
let eluTimer: NodeJS.Timeout | null = null;

function startSims(m: LiveFleetInit): void {
  heard = m.members.map(() => ({ target: [], err: [], granule: [], bytes: [], first: null }));
  const rnd = (a: number) => (Math.random() * 2 - 1) * a;
  fleet = new SimFleet({
    url: m.url,
    http: m.http,
    members: m.members.map((x) => ({ id: x.id, secret: x.secret, outputs: [{ index: 0 }, { index: 1 }] })),
    connectRate: m.connectRate,
    concurrency: m.concurrency,
    logger: countingLogger,
    clock: () => new DeviceClock({ trueNow, skewMs: rnd(m.skewMs), driftPpm: rnd(m.driftPpm) }),
    cluster: {
      contentFetch: 'assume',
      timeSync: { samples: m.samples, estimator: m.estimator },
      reconnectPeriodMs: 1000,
      bootDelayMs: 100,
    },
  });
  fleet.clusters.forEach((c, i) => {
    c.on('streamPage', (ev: StreamPageEvent) => {
      itemId ??= ev.itemId;
      const h = heard[i]!;
      const err = ev.trueMs - ev.targetMs;
      h.first ??= { errMs: err, trueMs: ev.trueMs, granule: ev.granule };
      h.target.push(ev.targetMs);
      h.err.push(err);
      h.granule.push(ev.granule);
      h.bytes.push(ev.bytes.length);
    });
  });
}

function startRaw(m: LiveFleetInit): void {
  const n = m.rawCount ?? 0;
  raws = Array.from({ length: n }, () => ({ at: [], n: [], ok: false, broken: false }));
  let next = 0;
  const open = (l: RawListener) => {
    const req = request(m.rawUrl!, (res) => {
      if (res.statusCode !== 200) {
        rawErrors++;
        res.resume();
        return;
      }
      l.ok = true;
      res.on('data', (d: Buffer) => {
        l.at.push(trueNow());
        l.n.push(d.length);
      });
      res.on('close', () => {
        l.broken = true;
        rawErrors++;
      });
    });
    req.on('error', () => {
      l.broken = true;
      rawErrors++;
    });
    req.end();
  };
  // connectRate per second, like the sims' ramp
  const perTick = Math.max(1, Math.round(m.connectRate / 10));
  const t = setInterval(() => {
    for (let k = 0; k < perTick && next < n; k++) open(raws[next++]!);
    if (next >= n) clearInterval(t);
  }, 100);
}

function progress(): LiveProgress {
  const m = init!;
  if (m.mode === 'raw') {
    const ok = raws.filter((r) => r.ok).length;
    return { type: 'progress', online: ok, grouped: ok, synced: ok, total: raws.length, listening: ok, errors: rawErrors };
  }
  const f = fleet!;
  let online = 0;
  let grouped = 0;
  let synced = 0;
  for (const c of f.clusters) {
    if (c.online) online++;
    if (c.groups.includes(m.group)) grouped++;
    if (c.clockOffsetMs !== null) synced++;
  }
  const listening = heard.filter((h) => h.first !== null).length;
  return { type: 'progress', online, grouped, synced, total: f.clusters.length, listening, errors: f.stats().errors };
}

/** Index of the last entry ≤ x in a sorted array, or -1. */
function floorIndex(xs: number[], x: number): number {
  let lo = 0;
  let hi = xs.length - 1;
  let ans = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid]! <= x) {
      ans = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return ans;
}

/** A page is 40 ms; a marker instant this far past the start of the page found for it was not in that page (a gap). */
const PAGE_MS_MAX = 120;

function collect(fromMs: number, toMs: number, markers: MarkerAt[]): LiveCollected {
  const elu0 = eluMarks.get(Math.floor(fromMs / 1000) * 1000);
  const elu = elu0 ? performance.eventLoopUtilization(elu0).utilization : NaN;
  const windowS = (toMs - fromMs) / 1000;
  const base: Omit<LiveCollected, 'listeners' | 'bytes'> = {
    type: 'collected', windowS, pages: [], first: [], errRange: [], glass: [], glassMissing: 0, underruns: 0, gapMs: 0, droppedLate: 0, pagesPlayed: 0,
    streamConnects: 0, streamErrors: 0, streamFailures: Object.fromEntries(streamFailures), rawErrors, elu, fleet: null, airings: { started: 0, finished: 0, failed: 0, underrunReports: 0 },
  };
  if (init!.mode === 'raw') {
    const bytes = raws.map((r) => {
      let s = 0;
      for (let i = 0; i < r.at.length; i++) if (r.at[i]! >= fromMs && r.at[i]! < toMs) s += r.n[i]!;
      return s;
    });
    return { ...base, listeners: raws.length, bytes };
  }
  const f = fleet!;
  const pages = new Map<number, [number, number, number, number]>();
  const bytes: number[] = [];
  const glass: number[] = [];
  let glassMissing = 0;
  heard.forEach((h, i) => {
    let b = 0;
    let lo = Infinity;
    let hi = -Infinity;
    // a page is in the window by its true instant
    for (let k = 0; k < h.target.length; k++) {
      const t = h.target[k]! + h.err[k]!;
      if (t < fromMs || t >= toMs) continue;
      b += h.bytes[k]!;
      const g = h.granule[k]!;
      const e = h.err[k]!;
      if (e < lo) lo = e;
      if (e > hi) hi = e;
      const p = pages.get(g);
      if (!p) pages.set(g, [g, e, e, 1]);
      else {
        if (e < p[1]) p[1] = e;
        if (e > p[2]) p[2] = e;
        p[3]++;
      }
    }
    bytes.push(b);
    if (hi >= lo) base.errRange.push(hi - lo);
    if (h.first) base.first.push(h.first);
    for (const mk of markers) {
      const k = floorIndex(h.target, mk.serverMs);
      if (k < 0 || mk.serverMs - h.target[k]! > PAGE_MS_MAX) {
        glassMissing++;
        glass.push(NaN);
        continue;
      }
      glass.push(mk.serverMs + h.err[k]! - mk.glassMs);
    }
    const c = f.clusters[i]!;
    const st = itemId ? c.streamStats(itemId) : null;
    if (st) {
      base.underruns += st.underruns;
      base.gapMs += st.gapMs;
      base.droppedLate += st.droppedLate;
      base.pagesPlayed += st.pagesPlayed;
    }
    base.streamConnects += c.counters.streamConnects;
    base.streamErrors += c.counters.streamErrors;
    base.airings.started += c.counters.airingStarted;
    base.airings.finished += c.counters.airingFinished;
    base.airings.failed += c.counters.airingFailed;
    base.airings.underrunReports += c.counters.airingUnderrun;
  });
  return { ...base, listeners: f.clusters.length, bytes, pages: [...pages.values()], glass, glassMissing, fleet: f.stats() };
}

process.on('message', (m: ToLiveFleet) => {
  void (async () => {
    try {
      switch (m.type) {
        case 'init':
          init = m;
          if (m.mode === 'sim') startSims(m);
          send({ type: 'inited' });
          break;
        case 'start':
          if (init!.mode === 'sim') fleet!.start();
          else startRaw(init!);
          progressTimer = setInterval(() => send(progress()), 1000);
          // event-loop utilisation marks every whole second of true time, so a window can be measured afterwards
          eluTimer = setInterval(() => {
            const s = Math.floor(trueNow() / 1000) * 1000;
            if (!eluMarks.has(s)) eluMarks.set(s, performance.eventLoopUtilization());
          }, 200);
          break;
        case 'collect':
          send(collect(m.fromMs, m.toMs, m.markers));
          break;
        case 'stop':
          if (progressTimer) clearInterval(progressTimer);
          if (eluTimer) clearInterval(eluTimer);
          await Promise.race([fleet?.stop(1000), new Promise((r) => setTimeout(r, 20_000))]);
          send({ type: 'stopped' });
          setTimeout(() => process.exit(0), 100);
          break;
      }
    } catch (err) {
      send({ type: 'error', message: String((err as Error).stack ?? err) });
    }
  })();
});
process.on('disconnect', () => process.exit(0));
