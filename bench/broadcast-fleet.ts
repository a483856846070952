/**
 * Child process of bench/broadcast.ts: the product's device side, a SimFleet (firmware-sim) driven over IPC.
 *
 * Per broadcast it records, for every cluster, on the shared wall clock (performance.timeOrigin + performance.now()):
 *  - raw:     the first group play message's arrival at the cluster's mqtt.js client ('message' event, before the
 *             simulated 4G downlink) — the same measuring point as the bare baseline's subscribers;
 *  - item:    the `item` event (order accepted by the firmware, after the simulated downlink delay);
 *  - started: the `airing` report with state 'started' (queued for the server at the start instant);
 * and, from the simulator, each cluster's start error against true time (`startErrors`), plus the time-sync state
 * at the start: when the last sync burst ended and how far the estimate was off right then.
 *
 * The raw hook reaches into the cluster's private Session (`session.client`) — read-only, a listener on the mqtt.js
 * client the simulator made; nothing in the simulator is changed.
 */
import { performance } from 'node:perf_hooks';
import { SimFleet, type NetworkOptions, type SimCluster, type TimeSyncEstimator } from '../firmware-sim/src/index.ts';

export interface FleetInit {
  type: 'init';
  url: string;
  http: string;
  members: { id: string; secret: string }[];
  /** a group every cluster follows (the province, a-bench-p): a cluster is ready once the broker granted it */
  group: string;
  connectRate: number;
  concurrency: number;
  skewMs: number;
  driftPpm: number;
  samples: number;
  estimator: TimeSyncEstimator;
  contentFetch: 'assume' | 'http';
  assumeDelayMs: number;
  network: NetworkOptions | null;
}
export type ToFleet =
  | FleetInit
  | { type: 'start' }
  | { type: 'arm' }
  | { type: 'collect'; itemId: string; timeoutMs: number }
  | { type: 'stats' }
  | { type: 'stop' };

export interface FleetProgress {
  type: 'progress';
  online: number;
  grouped: number;
  synced: number;
  total: number;
  errors: number;
  connects: number;
}
export interface SyncSummary {
  /** |estimate error| at the moment each cluster's last burst ended (ms) */
  estimateAbsP50: number | null;
  estimateAbsP99: number | null;
  estimateAbsMax: number | null;
  /** age of the last sync at the start instant (s) */
  ageP50S: number | null;
  ageMaxS: number | null;
  /** |drift × age| at the start (ms): what the crystal added since the sync */
  driftAbsP50: number | null;
  driftAbsP99: number | null;
  driftAbsMax: number | null;
  /**
   * Model check: start error ≈ −(estimate error at the sync + drift × age). p99 of |measured − model| is what the
   * player and its timers add on top of time sync.
   */
  residualAbsP99: number | null;
  residualAbsMax: number | null;
  /**
   * The same clusters, had the broadcast come at an evenly spread moment of a re-sync interval of I seconds (the
   * steady state: every cluster re-syncs every I s at its own phase), |start error| p50/p99/max for each I.
   */
  projected: { intervalS: number; p50: number | null; p99: number | null; max: number | null }[];
}
export interface FleetCollect {
  type: 'collected';
  itemId: string;
  /** per cluster, NaN when not seen within the timeout */
  raw: number[];
  item: number[];
  started: number[];
  /** signed start errors (trueStartMs − targetMs), ms */
  startErrors: number[];
  lateMs: number[];
  /** clusters whose start was late and sought into the programme (positionMs > 0), and the largest seek */
  sought: number;
  soughtMaxMs: number;
  missingStarts: number;
  sync: SyncSummary;
  /** event-loop utilisation of this process between arm and collect */
  elu: number;
  /** size of the play order's payload */
  orderBytes: number | null;
  stats: ReturnType<SimFleet['stats']>;
}
export type FromFleet = FleetProgress | { type: 'inited' } | { type: 'armed' } | { type: 'delivered'; at: number } | FleetCollect | { type: 'stats'; stats: ReturnType<SimFleet['stats']> } | { type: 'stopped' } | { type: 'error'; message: string };

const now = () => performance.timeOrigin + performance.now();
const send = (m: FromFleet) => process.send?.(m);

let fleet: SimFleet | null = null;
let init: FleetInit | null = null;
let raw = new Float64Array(0);
let item = new Float64Array(0);
let started = new Float64Array(0);
let armed = false;
let armedElu = performance.eventLoopUtilization();
/** last sync burst per cluster: when (true ms) and the estimate error then (estimate − true, ms) */
let syncAt = new Float64Array(0);
let syncErr = new Float64Array(0);
let progressTimer: NodeJS.Timeout | null = null;
let orderBytes: number | null = null;
let rawCount = 0;

function q(sorted: number[], p: number): number | null {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

function hook(c: SimCluster, i: number): void {
  c.on('connected', () => {
    // The Session keeps one mqtt.js client per connection; listen on it for the raw arrival of the order.
    const client = (c as unknown as { session: { client: { prependListener(e: 'message', fn: (topic: string, payload: Buffer) => void): void } | null } }).session.client;
    client?.prependListener('message', (topic: string, payload: Buffer) => {
      if (armed && Number.isNaN(raw[i]) && topic.startsWith('loa/v1/grp/') && topic.endsWith('/play')) {
        raw[i] = now();
        orderBytes = payload.length;
        if (++rawCount === raw.length) send({ type: 'delivered', at: raw[i] });
      }
    });
  });
  c.on('item', () => {
    if (armed && Number.isNaN(item[i])) item[i] = now();
  });
  c.on('airing', (r) => {
    if (armed && r.state === 'started' && Number.isNaN(started[i])) started[i] = now();
  });
  c.on('timeSync', (r) => {
    if (!r) return;
    syncAt[i] = c.clock.trueNow();
    syncErr[i] = (c.serverTimeEstimate() ?? NaN) - c.clock.trueNow();
  });
}

function progress(): FleetProgress {
  const f = fleet!;
  let online = 0;
  let grouped = 0;
  let synced = 0;
  for (const c of f.clusters) {
    if (c.online) online++;
    if (c.groups.includes(init!.group)) grouped++;
    if (c.clockOffsetMs !== null) synced++;
  }
  const s = f.stats();
  return { type: 'progress', online, grouped, synced, total: f.clusters.length, errors: s.errors, connects: s.connects };
}

async function collect(itemId: string, timeoutMs: number): Promise<void> {
  const f = fleet!;
  const n = f.clusters.length;
  const end = Date.now() + timeoutMs;
  const allStarted = () => {
    for (let i = 0; i < n; i++) if (Number.isNaN(started[i])) return false;
    return true;
  };
  while (!allStarted() && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  const elu = performance.eventLoopUtilization(armedElu).utilization;
  armed = false;
  const se = f.startErrors(itemId);
  const ages: number[] = [];
  const drifts: number[] = [];
  const est: number[] = [];
  const residuals: number[] = [];
  const INTERVALS = [600, 300, 120, 60];
  const proj = INTERVALS.map(() => [] as number[]);
  const idx = new Map(f.clusters.map((c, i) => [c.id, i]));
  for (const e of se.errors) {
    const i = idx.get(e.clusterId)!;
    const c = f.clusters[i];
    const rec = c.playbackRecord(itemId)!;
    const age = rec.trueStartMs - syncAt[i];
    ages.push(age / 1000);
    drifts.push(Math.abs((c.clock.drift * age) / 1e6));
    est.push(Math.abs(syncErr[i]));
    const model = (ageMs: number) => -(syncErr[i] + (c.clock.drift * ageMs) / 1e6);
    const residual = e.errorMs - model(age);
    residuals.push(Math.abs(residual));
    INTERVALS.forEach((iv, k) => {
      for (let j = 0; j < 20; j++) proj[k].push(Math.abs(model(((j + 0.5) / 20) * iv * 1000) + residual));
    });
  }
  const s = (xs: number[]) => [...xs].filter(Number.isFinite).sort((a, b) => a - b);
  const a = s(ages);
  const d = s(drifts);
  const e = s(est);
  const res = s(residuals);
  send({
    type: 'collected',
    itemId,
    raw: Array.from(raw),
    item: Array.from(item),
    started: Array.from(started),
    startErrors: se.errors.map((x) => x.errorMs),
    lateMs: se.errors.map((x) => x.lateMs),
    sought: se.errors.filter((x) => x.positionMs > 0).length,
    soughtMaxMs: Math.max(0, ...se.errors.map((x) => x.positionMs)),
    missingStarts: se.missing.length,
    sync: {
      estimateAbsP50: q(e, 0.5),
      estimateAbsP99: q(e, 0.99),
      estimateAbsMax: e.length ? e[e.length - 1] : null,
      ageP50S: q(a, 0.5),
      ageMaxS: a.length ? a[a.length - 1] : null,
      driftAbsP50: q(d, 0.5),
      driftAbsP99: q(d, 0.99),
      driftAbsMax: d.length ? d[d.length - 1] : null,
      residualAbsP99: q(res, 0.99),
      residualAbsMax: res.length ? res[res.length - 1] : null,
      projected: INTERVALS.map((intervalS, k) => {
        const xs = s(proj[k]);
        return { intervalS, p50: q(xs, 0.5), p99: q(xs, 0.99), max: xs.length ? xs[xs.length - 1] : null };
      }),
    },
    elu,
    orderBytes,
    stats: f.stats(),
  });
}

process.on('message', (m: ToFleet) => {
  void (async () => {
    try {
      switch (m.type) {
        case 'init': {
          init = m;
          const n = m.members.length;
          raw = new Float64Array(n).fill(NaN);
          item = new Float64Array(n).fill(NaN);
          started = new Float64Array(n).fill(NaN);
          syncAt = new Float64Array(n).fill(NaN);
          syncErr = new Float64Array(n).fill(NaN);
          fleet = new SimFleet({
            url: m.url,
            http: m.http,
            members: m.members.map((x) => ({ id: x.id, secret: x.secret, outputs: [{ index: 0 }, { index: 1 }] })),
            connectRate: m.connectRate,
            concurrency: m.concurrency,
            skewMs: m.skewMs,
            driftPpm: m.driftPpm,
            cluster: {
              contentFetch: m.contentFetch,
              contentAssumeDelayMs: m.assumeDelayMs,
              timeSync: { samples: m.samples, estimator: m.estimator },
              reconnectPeriodMs: 1000,
              bootDelayMs: 100,
            },
          });
          fleet.clusters.forEach((c, i) => {
            if (m.network) c.network(m.network);
            hook(c, i);
          });
          send({ type: 'inited' });
          break;
        }
        case 'start':
          fleet!.start();
          progressTimer = setInterval(() => send(progress()), 1000);
          break;
        case 'arm':
          raw.fill(NaN);
          rawCount = 0;
          item.fill(NaN);
          started.fill(NaN);
          armedElu = performance.eventLoopUtilization();
          armed = true;
          send({ type: 'armed' });
          break;
        case 'collect':
          await collect(m.itemId, m.timeoutMs);
          break;
        case 'stats':
          send({ type: 'stats', stats: fleet!.stats() });
          break;
        case 'stop':
          if (progressTimer) clearInterval(progressTimer);
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
