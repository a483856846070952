/**
 * Thousands of simulated clusters in one process. What makes that cheap:
 *  - one TickScheduler (a single interval) drives every periodic task; each cluster's telemetry and time sync sit on
 *    phase slot i/N of their interval, so reports arrive as an even stream rather than in bursts;
 *  - connects are released by a token bucket (connectRate per second) and capped by how many are still waiting
 *    for their first birth to be acknowledged (concurrency), which is what a broker behind a TLS terminator can take;
 *  - no listeners per cluster for statistics: stats() sums the counters each cluster keeps anyway.
 */
import { EventEmitter } from 'node:events';
import type { FleetMember } from '../../schemas/fleet-file.ts';
import { DeviceClock } from './clock.ts';
import type { SimClusterOptions } from './cluster-core.ts';
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
  /** Options applied to every cluster (reconnect timing, telemetry default, TLS trust, physics …). */
  cluster?: Partial<Omit<SimClusterOptions, 'url' | 'id' | 'secret' | 'outputs' | 'scheduler' | 'phase'>>;
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

  constructor(private readonly o: SimFleetOptions) {
    super();
    const log = o.logger ?? silentLogger;
    this.random = o.random ?? Math.random;
    this.rate = o.connectRate ?? 100;
    this.concurrency = o.concurrency ?? 50;
    this.scheduler = new TickScheduler(o.tickMs ?? 100, Date.now, (e) => log.error({ err: String(e) }, 'fleet task failed'));
    const n = o.members.length;
    this.clusters = o.members.map((m, i) => {
      const c = new SimCluster({
        ...o.cluster,
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
    };
    for (const c of this.clusters) {
      const k = c.counters;
      if (c.connected) s.connected++;
      if (c.online) s.online++;
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
    }
    return s;
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
