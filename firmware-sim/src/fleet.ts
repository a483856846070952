/**
 * Thousands of simulated clusters in one process. What makes that cheap:
 *  - one TickScheduler (a single interval) drives every periodic task; each cluster's telemetry and time sync sit on
 *    phase slot i/N of their interval, so reports arrive as an even stream rather than in bursts;
 *  - connects are released by a token bucket (connectRate per second) and capped by how many are still waiting
 *    for their first birth to be acknowledged (concurrency), which is what a broker behind a TLS terminator can take;
 *  - no listeners per cluster for statistics: stats() sums the counters each cluster keeps anyway;
 *  - one ContentCache for the fleet (sharedContentCache, default on): a file held by every cluster is one Buffer,
 *    though each cluster still downloads and verifies it itself unless `cluster.sharedDownloads` is set (or
 *    `cluster.contentFetch: 'assume'` skips HTTP, the benchmark setting for 10,000 clusters).
 */
import { EventEmitter } from 'node:events';
import type { FleetMember } from '../../schemas/fleet-file.ts';
import { DeviceClock } from './clock.ts';
import type { SimClusterOptions } from './cluster-core.ts';
import { ContentCache } from './content-cache.ts';
import { applyFault, select, type Fault, type Selection } from './faults.ts';
import { TickScheduler } from './scheduler.ts';
import { SimCluster } from './sim-cluster.ts';
import { silentLogger, type Logger } from './types.ts';

export interface SimFleetOptions {
  url: string;
  members: FleetMember[];
  /** Connection attempts released per second. Default 100. */
  connectRate?: number;
  /** Most clusters that may be connecting for the first time at once. Default 50. */
  concurrency?: number;
  /** Scheduler resolution. Default 100 ms. */
  tickMs?: number;
  /** Uniform random clock skew in ±skewMs per cluster. Default 0. */
  skewMs?: number;
  /** Uniform random drift in ±driftPpm per cluster. Default 0. */
  driftPpm?: number;
  /** Full control over each cluster's clock (overrides skewMs/driftPpm). */
  clock?: (member: FleetMember, index: number) => DeviceClock;
  /** Options applied to every cluster (reconnect timing, telemetry default, TLS trust, physics, contentFetch …). */
  cluster?: Partial<Omit<SimClusterOptions, 'url' | 'id' | 'secret' | 'outputs' | 'scheduler' | 'phase'>>;
  /** Server HTTP base URL for content fetch (the fleet file's `http`); overrides cluster.httpUrl. */
  http?: string;
  /** One content cache (by sha256) for every cluster, so a file is held in memory once. Default true. */
  sharedContentCache?: boolean;
  logger?: Logger;
  random?: () => number;
}

export interface FleetStats {
  total: number;
  /** Powered on so far by the connect ramp. */
  started: number;
  /** Started but not yet online for the first time. */
  connecting: number;
  /** MQTT session up right now. */
  connected: number;
  /** Online (birth acknowledged) right now. */
  online: number;
  /** Came online at least once. */
  everOnline: number;
  /**
   * Online and following at least one group topic on this connection: the clusters a commune-wide order can reach
   * live. Below `online`, they missed or never got their config (issue 8 §2: online 34, in groups 0).
   */
  inGroups: number;
  telemetrySent: number;
  eventsRaised: number;
  eventsSent: number;
  eventsPending: number;
  repliesSent: number;
  commandsReceived: number;
  commandsExecuted: number;
  connects: number;
  disconnects: number;
  connectErrors: number;
  malformed: number;
  timeSyncs: number;
  /** connectErrors + malformed + timeSyncFailures + subscribeRefused. */
  errors: number;
  // broadcasting: airing reports raised, by state, summed over the fleet
  airingsReceived: number;
  airingsDownloaded: number;
  airingsStarted: number;
  airingsFinished: number;
  airingsFailed: number;
  airingsSkipped: number;
  airingsCancelled: number;
  airingsInterrupted: number;
  airingsResumed: number;
  /** Underruns of live streams reported (v1.2), stream connections opened, and stream requests or reads that failed. */
  airingsUnderrun: number;
  streamConnects: number;
  streamErrors: number;
  /** Airing reports acknowledged by the broker, and still waiting (offline or in flight). */
  airingReportsSent: number;
  airingReportsPending: number;
  /** HTTP content requests made, and failed attempts (network, status, hash). */
  downloads: number;
  downloadErrors: number;
  /** Distinct files and bytes in the fleet's shared content cache (0 without one). */
  contentFiles: number;
  contentBytes: number;
}

/** How far each cluster's start of one airing was from its target, in true time (server on true time). */
export interface StartErrors {
  itemId: string;
  seq: number;
  /** One row per cluster that started the airing at a target (items with a startAt). */
  errors: Array<{ clusterId: string; errorMs: number; positionMs: number; lateMs: number }>;
  /** Clusters with no start record for it. */
  missing: string[];
  /** Over the signed errors; `maxAbs` and the percentiles of |error|. */
  summary: { n: number; min: number; max: number; median: number; meanAbs: number; p95Abs: number; p99Abs: number; maxAbs: number } | null;
}

export interface SimFleetEvents {
  /** Every cluster has been started and each either came online or failed its first attempt. */
  rampDone: [];
  /** Every cluster is online at the same time (emitted each time that becomes true). */
  allOnline: [];
}

export class SimFleet extends EventEmitter<SimFleetEvents> {
  readonly clusters: SimCluster[];
  readonly scheduler: TickScheduler;
  private readonly byId = new Map<string, SimCluster>();
  private readonly everOnline = new Set<string>();
  private readonly firstPending = new Set<string>();
  private next = 0;
  private tokens = 0;
  private lastPump = 0;
  private pumpCancel: (() => void) | null = null;
  private running = false;
  private rampReported = false;
  private readonly rate: number;
  private readonly concurrency: number;
  private readonly random: () => number;
  /** The fleet's shared content cache (null when sharedContentCache is false). */
  readonly contentCache: ContentCache | null;

  constructor(private readonly o: SimFleetOptions) {
    super();
    const log = o.logger ?? silentLogger;
    this.random = o.random ?? Math.random;
    this.rate = o.connectRate ?? 100;
    this.concurrency = o.concurrency ?? 50;
    this.scheduler = new TickScheduler(o.tickMs ?? 100, Date.now, (e) => log.error({ err: String(e) }, 'fleet task failed'));
    const n = o.members.length;
    this.contentCache = (o.sharedContentCache ?? true) ? new ContentCache() : null;
    this.clusters = o.members.map((m, i) => {
      const c = new SimCluster({
        ...o.cluster,
        ...(o.http !== undefined ? { httpUrl: o.http } : {}),
        ...(this.contentCache ? { contentCache: this.contentCache } : {}),
        url: o.url,
        id: m.id,
        secret: m.secret,
        outputs: m.outputs,
        firmware: m.firmware ?? o.cluster?.firmware,
        hardware: m.hardware ?? o.cluster?.hardware,
        model: m.model ?? o.cluster?.model,
        serial: m.serial ?? o.cluster?.serial,
        clock: this.clockFor(m, i),
        scheduler: this.scheduler,
        phase: n > 0 ? i / n : 0,
        logger: log,
        random: this.random,
      });
      if (this.byId.has(m.id)) throw new Error(`duplicate cluster id ${m.id}`);
      this.byId.set(m.id, c);
      return c;
    });
  }

  private clockFor(m: FleetMember, i: number): DeviceClock {
    if (this.o.clock) return this.o.clock(m, i);
    const sym = (x: number) => (x ? (this.random() * 2 - 1) * x : 0);
    return new DeviceClock({ skewMs: sym(this.o.skewMs ?? 0), driftPpm: sym(this.o.driftPpm ?? 0) });
  }

  get(id: string): SimCluster | undefined {
    return this.byId.get(id);
  }

  /** Begin the connect ramp. Returns at once; watch stats() or await waitOnline(). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.scheduler.start();
    this.lastPump = Date.now();
    this.tokens = Math.min(this.concurrency, Math.max(1, this.rate * (this.scheduler.tickMs / 1000)));
    this.pump();
    this.pumpCancel = this.scheduler.every(this.scheduler.tickMs, () => this.pump());
  }

  private pump(): void {
    const now = Date.now();
    // Token bucket: the burst allowance is one tick's worth, so a stalled event loop does not release a flood.
    this.tokens = Math.min(this.tokens + ((now - this.lastPump) / 1000) * this.rate, Math.max(1, this.rate * (this.scheduler.tickMs / 1000)));
    this.lastPump = now;
    while (this.tokens >= 1 && this.next < this.clusters.length && this.firstPending.size < this.concurrency) {
      this.tokens--;
      this.launch(this.clusters[this.next++]);
    }
    if (this.next >= this.clusters.length && this.firstPending.size === 0) {
      this.pumpCancel?.();
      this.pumpCancel = null;
      if (!this.rampReported) {
        this.rampReported = true;
        this.emit('rampDone');
      }
    }
  }

  private launch(c: SimCluster): void {
    this.firstPending.add(c.id);
    const settle = () => {
      c.off('connectError', settle);
      this.firstPending.delete(c.id);
    };
    c.once('online', () => {
      this.everOnline.add(c.id);
      settle();
    });
    c.on('connectError', settle);
    c.on('online', () => {
      if (this.everOnline.size === this.clusters.length && this.clusters.every((x) => x.online)) this.emit('allOnline');
    });
    void c.start().catch(() => {});
  }

  /** Resolve once every cluster (or `count` of them) is online; reject after timeoutMs. */
  waitOnline(timeoutMs = 60_000, count = this.clusters.length): Promise<void> {
    return new Promise((resolve, reject) => {
      const until = Date.now() + timeoutMs;
      const check = () => {
        const online = this.clusters.reduce((n, c) => n + (c.online ? 1 : 0), 0);
        if (online >= count) return resolve();
        if (Date.now() > until) return reject(new Error(`only ${online}/${count} clusters online after ${timeoutMs} ms`));
        setTimeout(check, 50);
      };
      check();
    });
  }

  /** Apply a fault to a selection (default: all). Returns the clusters it was applied to. */
  applyFault(fault: Fault, selection: Selection = {}): SimCluster[] {
    const picked = select(this.clusters, selection, this.random);
    for (const c of picked) applyFault(c, fault, this.random);
    return picked;
  }

  stats(): FleetStats {
    const s: FleetStats = {
      total: this.clusters.length,
      started: this.next,
      connecting: this.next - this.everOnline.size,
      connected: 0,
      online: 0,
      everOnline: this.everOnline.size,
      inGroups: 0,
      telemetrySent: 0,
      eventsRaised: 0,
      eventsSent: 0,
      eventsPending: 0,
      repliesSent: 0,
      commandsReceived: 0,
      commandsExecuted: 0,
      connects: 0,
      disconnects: 0,
      connectErrors: 0,
      malformed: 0,
      timeSyncs: 0,
      errors: 0,
      airingsReceived: 0,
      airingsDownloaded: 0,
      airingsStarted: 0,
      airingsFinished: 0,
      airingsFailed: 0,
      airingsSkipped: 0,
      airingsCancelled: 0,
      airingsInterrupted: 0,
      airingsResumed: 0,
      airingsUnderrun: 0,
      streamConnects: 0,
      streamErrors: 0,
      airingReportsSent: 0,
      airingReportsPending: 0,
      downloads: 0,
      downloadErrors: 0,
      contentFiles: this.contentCache?.files ?? 0,
      contentBytes: this.contentCache?.bytes ?? 0,
    };
    for (const c of this.clusters) {
      const k = c.counters;
      if (c.connected) s.connected++;
      if (c.online) s.online++;
      if (c.online && c.groups.length > 0) s.inGroups++;
      s.telemetrySent += k.telemetrySent;
      s.eventsRaised += k.eventsRaised;
      s.eventsSent += k.eventsSent;
      s.eventsPending += c.pendingEventCount;
      s.repliesSent += k.repliesSent;
      s.commandsReceived += k.commandsReceived;
      s.commandsExecuted += k.commandsExecuted;
      s.connects += k.connects;
      s.disconnects += k.disconnects;
      s.connectErrors += k.connectErrors;
      s.malformed += k.malformed;
      s.timeSyncs += k.timeSyncs;
      s.errors += k.connectErrors + k.malformed + k.timeSyncFailures + k.subscribeRefused;
      s.airingsReceived += k.airingReceived;
      s.airingsDownloaded += k.airingDownloaded;
      s.airingsStarted += k.airingStarted;
      s.airingsFinished += k.airingFinished;
      s.airingsFailed += k.airingFailed;
      s.airingsSkipped += k.airingSkipped;
      s.airingsCancelled += k.airingCancelled;
      s.airingsInterrupted += k.airingInterrupted;
      s.airingsResumed += k.airingResumed;
      s.airingsUnderrun += k.airingUnderrun;
      s.streamConnects += k.streamConnects;
      s.streamErrors += k.streamErrors;
      s.airingReportsSent += k.airingReportsSent;
      s.airingReportsPending += c.pendingAiringCount;
      s.downloads += k.downloads;
      s.downloadErrors += k.downloadErrors;
    }
    return s;
  }

  /**
   * Start-time error of airing `seq` of one item on every cluster: trueStartMs − target, i.e. against true time,
   * which is server time when the server runs on the same host (or an NTP-disciplined one). Positive = late.
   */
  startErrors(itemId: string, seq = 0): StartErrors {
    const errors: StartErrors['errors'] = [];
    const missing: string[] = [];
    for (const c of this.clusters) {
      const r = c.playbackRecord(itemId, seq);
      if (!r || r.targetMs === null) {
        missing.push(c.id);
        continue;
      }
      errors.push({ clusterId: c.id, errorMs: r.trueStartMs - r.targetMs, positionMs: r.positionMs, lateMs: r.lateMs });
    }
    const signed = errors.map((e) => e.errorMs).sort((a, b) => a - b);
    const abs = signed.map(Math.abs).sort((a, b) => a - b);
    const q = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.ceil(p * xs.length) - 1)];
    const summary = signed.length
      ? {
          n: signed.length,
          min: signed[0],
          max: signed[signed.length - 1],
          median: signed.length % 2 ? signed[signed.length >> 1] : (signed[signed.length / 2 - 1] + signed[signed.length / 2]) / 2,
          meanAbs: abs.reduce((a, b) => a + b, 0) / abs.length,
          p95Abs: q(abs, 0.95),
          p99Abs: q(abs, 0.99),
          maxAbs: abs[abs.length - 1],
        }
      : null;
    return { itemId, seq, errors, missing, summary };
  }

  /** Stop every cluster cleanly (offline status, DISCONNECT), `parallel` at a time. */
  async stop(parallel = 500): Promise<void> {
    this.running = false;
    this.pumpCancel?.();
    this.pumpCancel = null;
    for (let i = 0; i < this.clusters.length; i += parallel) {
      await Promise.all(this.clusters.slice(i, i + parallel).map((c) => c.stop()));
    }
    this.scheduler.stop();
  }
}
