/**
 * The protocol half of a simulated cluster: device protocol v1.1 (schemas/device-protocol/catalog.ts) as firmware
 * must implement it. Connection handling is in session.ts, the physical model in device-state.ts, command decisions
 * in commands.ts, broadcasting (manifest, content, player) in playback.ts and content.ts; the fault knobs that make
 * up the rest of SimCluster's API are in sim-cluster.ts.
 */
import { EventEmitter } from 'node:events';
import {
  PROTOCOL_VERSION,
  deviceTopic,
  parseTopic,
  type AiringReport,
  type AiringState,
  type CommandReply,
  type DeviceConfig,
  type DeviceEvent,
  type PlayItem,
  type Telemetry,
} from '../../schemas/device-protocol/index.ts';
import { DeviceClock } from './clock.ts';
import {
  codec,
  newCounters,
  type CommandVia,
  type RebootReason,
  type SimClusterEvents,
  type SimClusterOptions,
  type SimClusterState,
  type SimCounters,
} from './cluster-types.ts';
import { CommandIntake } from './command-intake.ts';
import { ContentCache } from './content.ts';
import { DeviceState, type StateEvent } from './device-state.ts';
import { GroupSubscriptions } from './groups.ts';
import { Outbox } from './outbox.ts';
import { Playback, type NowPlaying, type PlaybackRecord } from './playback.ts';
import { hashString, seededRandom } from './rng.ts';
import { TimerScheduler, type Cancel, type Scheduler } from './scheduler.ts';
import { Session } from './session.ts';
import { TimeSync, type TimeSyncResult } from './time-sync.ts';
import { silentLogger, type Logger } from './types.ts';

export type { CommandVia, RebootReason, SimClusterEvents, SimClusterOptions, SimClusterState, SimCounters };

/** The id of a command that failed its schema, if it has one worth answering. */
function usableId(payload: Buffer): string | null {
  try {
    const id = (JSON.parse(payload.toString('utf8')) as { id?: unknown } | null)?.id;
    return typeof id === 'string' && id.length > 0 && id.length <= 64 ? id : null;
  } catch {
    return null;
  }
}
export { newCounters };

const WILL = Buffer.from('{"state":"offline"}');
/** Start records kept per cluster for SimFleet.startErrors (most recent first out). */
const KEEP_PLAYBACK_RECORDS = 64;
const COUNTER_OF: Record<AiringState, keyof SimCounters> = {
  received: 'airingReceived',
  downloaded: 'airingDownloaded',
  started: 'airingStarted',
  interrupted: 'airingInterrupted',
  resumed: 'airingResumed',
  finished: 'airingFinished',
  failed: 'airingFailed',
  skipped: 'airingSkipped',
  cancelled: 'airingCancelled',
};

export class ClusterCore extends EventEmitter<SimClusterEvents> {
  readonly id: string;
  readonly clock: DeviceClock;
  readonly counters: SimCounters = newCounters();
  readonly state: DeviceState;
  protected readonly session: Session;
  protected running = false;
  protected readonly o: SimClusterOptions;
  protected readonly sched: Scheduler;
  protected readonly log: Logger;
  private readonly outbox: Outbox;
  private readonly intake: CommandIntake;
  private readonly timeSync: TimeSync;
  private readonly eventIdBase: string;
  private eventSeq = 0;
  private booting = false;
  private isOnline = false;
  private heldConfig: DeviceConfig | null = null;
  private readonly groupSubs: GroupSubscriptions;
  protected readonly playback: Playback;
  /** Latest measured offset, kept across reboots (the RTC keeps running): what the player schedules with. */
  private lastOffset: number | null = null;
  /** A time-sync burst has ended at least once (with or without a result). */
  private syncSettled = false;
  private starts: Map<string, PlaybackRecord> | null = null;
  private bootAt = 0;
  private bootTrue = 0;
  private bootReason: RebootReason = 'power_on';
  private seq = 0;
  private identifyUntil = 0;
  private timers: Partial<Record<'telemetry' | 'timeSync' | 'timeSyncRetry' | 'boot' | 'battery', Cancel>> = {};
  private firstOnline: { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } | null = null;

  constructor(opts: SimClusterOptions) {
    super();
    this.o = opts;
    this.id = opts.id;
    this.clock = opts.clock ?? new DeviceClock();
    this.log = opts.logger ?? silentLogger;
    const random = opts.random ?? Math.random;
    this.sched = opts.scheduler ?? new TimerScheduler((e) => this.log.error({ clusterId: this.id, err: String(e) }, 'timer task failed'));
    this.state = new DeviceState(opts.outputs, seededRandom(hashString(opts.id)), this.clock.trueNow, opts.physics);
    this.outbox = new Outbox(opts.eventBuffer ?? 500);
    this.eventIdBase = Math.floor(this.clock.trueNow()).toString(36);
    this.timeSync = new TimeSync(
      this.clock,
      (req) => this.session.publish(this.topic('time/req'), codec.timeReq.encode(req), 0, false),
      (r) => this.onTimeSynced(r),
      opts.timeSync,
    );
    this.intake = new CommandIntake({
      counters: this.counters,
      target: {
        deviceNow: () => this.clock.nowMs(),
        clockOffsetMs: () => this.timeSync.offsetMs,
        setVolume: (v) => this.state.setVolume(v),
        setOutput: (index, enabled) => {
          if (!this.state.hasOutput(index)) return false;
          this.state.setOutputEnabled(index, enabled);
          return true;
        },
        identify: (s) => {
          this.identifyUntil = this.clock.trueNow() + s * 1000;
        },
      },
      awaitingFirstSync: () => this.timeSync.offsetMs === null && this.timeSync.running,
      received: (cmd, info) => this.emit('command', cmd, info),
      executed: (cmd) => this.emit('executed', cmd),
      send: (encoded, resent, onAck) => this.sendReply(encoded, resent, onAck),
      reboot: () => void this.reboot('command'),
      after: (ms, fn) => void this.sched.after(ms, fn),
    });
    this.groupSubs = new GroupSubscriptions(
      () => this.session,
      (g, channel) => {
        this.counters.subscribeRefused++;
        this.log.warn({ clusterId: this.id, group: g, channel }, 'group subscription refused');
      },
      (groups) => this.emit('groups', groups),
    );
    this.playback = new Playback(
      {
        clusterId: this.id,
        clock: this.clock,
        log: this.log,
        counters: this.counters,
        offset: () => this.lastOffset,
        syncPending: () => this.lastOffset === null && !this.syncSettled,
        emergencyVolume: () => this.heldConfig?.emergencyVolume ?? 100,
        report: (r) => this.sendAiring(r),
        requestManifest: (version) => this.requestManifest(version),
        setPlaying: (p, volume) => this.raise(this.state.setPlaying(p, volume)),
        itemAccepted: (item) => this.emit('item', item),
        started: (rec) => {
          const starts = (this.starts ??= new Map());
          starts.delete(`${rec.itemId}#${rec.seq}`);
          starts.set(`${rec.itemId}#${rec.seq}`, rec);
          if (starts.size > KEEP_PLAYBACK_RECORDS) starts.delete(starts.keys().next().value as string);
          this.emit('playback', rec);
        },
      },
      {
        clusterId: opts.id,
        secret: opts.secret,
        mode: opts.contentFetch ?? 'http',
        httpUrl: opts.httpUrl,
        cache: opts.contentCache ?? new ContentCache(),
        sharedDownloads: opts.sharedDownloads ?? false,
        assumeDelayMs: opts.contentAssumeDelayMs ?? 0,
        retry: { initialMs: 2000, maxMs: 60_000, jitter: 0.3, ...opts.contentRetry },
        timeoutMs: opts.contentTimeoutMs ?? 30_000,
        ca: opts.ca,
        rejectUnauthorized: opts.rejectUnauthorized,
        sched: this.sched,
        random,
        linkUp: () => this.session.linkState === 'up',
      },
      { syncWindowMs: opts.syncWindowMs },
    );
    this.session = new Session(
      {
        url: opts.url,
        id: opts.id,
        secret: opts.secret,
        ca: opts.ca,
        rejectUnauthorized: opts.rejectUnauthorized,
        keepaliveS: opts.keepaliveS ?? 60,
        connectTimeoutMs: opts.connectTimeoutMs ?? 15_000,
        reconnectPeriodMs: opts.reconnectPeriodMs ?? 2000,
        reconnectMaxMs: opts.reconnectMaxMs ?? 60_000,
        reconnectJitter: opts.reconnectJitter ?? 0.3,
        will: { topic: this.topic('status'), payload: WILL },
        scheduler: this.sched,
        random,
        logger: this.log,
      },
      {
        up: () => this.onConnected(),
        down: (reason) => this.onDisconnected(reason),
        message: (topic, payload) => this.onMessage(topic, payload),
        connectError: (err) => {
          this.counters.connectErrors++;
          this.log.debug({ clusterId: this.id, err: err.message }, 'connect failed');
          this.emit('connectError', err);
        },
        link: (state) => (state === 'up' ? this.playback.content.linkRestored() : this.playback.content.linkLost()),
      },
    );
  }

  // ---- lifecycle -------------------------------------------------------------------------------------------------

  /** Power on. Resolves at the first online + birth; rejects only if stopped before that. */
  start(): Promise<void> {
    if (!this.firstOnline) {
      let resolve!: () => void, reject!: (e: Error) => void;
      const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
      promise.catch(() => {});
      this.firstOnline = { promise, resolve, reject };
    }
    if (!this.running) {
      this.running = true;
      this.boot('power_on');
    }
    return this.firstOnline.promise;
  }

  /** Planned shutdown: offline status (retained), DISCONNECT, nothing left running. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.booting = false;
    this.playback.halt();
    await this.goOffline(true);
    this.halt();
  }

  /** Power cut: the TCP connection just dies (no DISCONNECT), so the broker publishes the will. */
  kill(): void {
    if (!this.running) return;
    this.running = false;
    this.booting = false;
    this.playback.halt();
    void this.session.close(false);
    this.halt();
  }

  /**
   * Reboot. `command` and `firmware_update` are planned: offline status, DISCONNECT. Anything else (watchdog,
   * crash, brownout …) is a sudden restart: the connection drops and the broker publishes the will.
   */
  async reboot(reason: RebootReason = 'unknown'): Promise<void> {
    if (!this.running || this.booting) return;
    this.booting = true;
    this.emit('rebooting', reason);
    // Power to the player and the modem goes; the manifest, content and unsent reports are in flash.
    this.playback.powerDown();
    await this.goOffline(reason === 'command' || reason === 'firmware_update');
    this.timers.boot = this.sched.after(this.o.bootDelayMs ?? 3000, () => {
      this.timers.boot = undefined;
      if (!this.running) return;
      this.booting = false;
      this.boot(reason);
    });
  }

  private boot(reason: RebootReason): void {
    this.bootReason = reason;
    this.bootAt = this.clock.nowMs();
    this.bootTrue = this.clock.trueNow();
    this.seq = 0;
    this.timeSync.offsetMs = null;
    this.timeSync.rttMs = null;
    this.identifyUntil = 0;
    this.counters.boots++;
    this.raise([{ type: 'reboot', reason }]);
    this.rescheduleBattery();
    this.playback.powerUp();
    this.session.open();
  }

  private async goOffline(clean: boolean): Promise<void> {
    if (clean && this.isOnline) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 2000);
        this.publishStatus('offline', () => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    this.timeSync.cancel();
    await this.session.close(clean);
  }

  private halt(): void {
    for (const k of Object.keys(this.timers) as Array<keyof typeof this.timers>) this.timers[k]?.();
    this.timers = {};
    this.timeSync.cancel();
    this.firstOnline?.reject(new Error(`cluster ${this.id} stopped before it came online`));
    this.firstOnline = null;
    this.emit('stopped');
  }

  // ---- connection ------------------------------------------------------------------------------------------------

  private onConnected(): void {
    this.counters.connects++;
    this.emit('connected');
    const own = [this.topic('config'), this.topic('cmd'), this.topic('time/res'), this.topic('manifest')];
    this.session.subscribe(own, (granted) => {
      if (!granted || granted.some((q) => q === 128)) {
        this.counters.subscribeRefused++;
        this.log.warn({ clusterId: this.id, granted }, 'own topics refused; reconnecting');
        return this.session.drop('subscribe refused');
      }
      this.publishStatus('online');
      const birth = {
        protocol: PROTOCOL_VERSION,
        firmware: this.o.firmware ?? '2.4.1-sim',
        hardware: this.o.hardware ?? 'LX-RX4G sim',
        ...(this.o.model ? { model: this.o.model } : {}),
        ...(this.o.serial ? { serial: this.o.serial } : {}),
        outputs: this.o.outputs.map((x) => ({ ...x })),
        bootAt: this.bootAt,
        bootReason: this.bootReason,
        manifestVersion: this.playback.manifestVersion,
      };
      // Online only once the broker has the birth: MQTT keeps no order between QoS 0 and QoS 1 publishes, and the
      // server should never see telemetry from a device whose birth it has not had.
      const gen = this.session.gen;
      this.session.publish(this.topic('birth'), codec.birth.encode(birth), 1, false, (ok) => {
        if (gen !== this.session.gen) return;
        if (!ok) return this.session.drop('birth not delivered');
        this.isOnline = true;
        this.timeSync.start();
        this.flushOutbox();
        this.schedulePeriodic();
        if (this.o.telemetryOnConnect ?? true) this.sendTelemetry();
        this.emit('online');
        this.firstOnline?.resolve();
      });
    });
  }

  private onDisconnected(reason: string): void {
    this.isOnline = false;
    this.groupSubs.reset();
    this.timeSync.cancel();
    this.timers.telemetry?.();
    this.timers.timeSync?.();
    this.timers.timeSyncRetry?.();
    this.timers.telemetry = this.timers.timeSync = this.timers.timeSyncRetry = undefined;
    this.outbox.resetInflight();
    this.counters.disconnects++;
    this.emit('disconnected', reason);
  }

  private publishStatus(state: 'online' | 'offline', done?: () => void): void {
    const payload = codec.status.encode({ state, ts: this.clock.nowMs() });
    this.session.publish(this.topic('status'), payload, 1, true, () => done?.());
  }

  private schedulePeriodic(): void {
    const phase = this.o.phase ?? 0;
    this.timers.telemetry?.();
    this.timers.telemetry = this.sched.every(this.telemetryIntervalS * 1000, () => this.sendTelemetry(), phase);
    this.timers.timeSync?.();
    this.timers.timeSync = this.sched.every(this.timeSyncIntervalS * 1000, () => this.timeSync.start(), phase);
  }

  // ---- inbound ---------------------------------------------------------------------------------------------------

  private onMessage(topic: string, payload: Buffer): void {
    try {
      const t = parseTopic(topic);
      if (t?.kind === 'group' && t.channel === 'play') {
        const d = codec.groupPlay.decode(payload);
        return d.ok ? this.playback.onGroupPlay(d.value) : this.malformed(topic, d.error);
      }
      if (t?.kind === 'group') return this.onCommand(topic, payload, { via: 'group', groupId: t.groupId });
      if (t?.kind !== 'device' || t.clusterId !== this.id) return this.malformed(topic, 'topic outside the grammar');
      if (t.channel === 'cmd') return this.onCommand(topic, payload, { via: 'device' });
      if (t.channel === 'config') {
        const d = codec.config.decode(payload);
        return d.ok ? this.applyConfig(d.value) : this.malformed(topic, d.error);
      }
      if (t.channel === 'manifest') {
        const d = codec.manifest.decode(payload);
        return d.ok ? this.playback.onManifest(d.value) : this.malformed(topic, d.error);
      }
      if (t.channel === 'time/res') {
        const d = codec.timeRes.decode(payload);
        return d.ok ? this.timeSync.onResponse(d.value) : this.malformed(topic, d.error);
      }
      this.malformed(topic, `unexpected channel ${t.channel}`);
    } catch (err) {
      // Never let a server bug take the device down.
      this.malformed(topic, `handler failed: ${(err as Error).message}`);
    }
  }

  private malformed(topic: string, error: string): void {
    this.counters.malformed++;
    this.log.warn({ clusterId: this.id, topic, error }, 'ignored malformed message');
    this.emit('malformed', { topic, error });
  }

  private applyConfig(cfg: DeviceConfig): void {
    const prev = this.heldConfig;
    const changed = !prev || prev.version !== cfg.version;
    if (changed) {
      this.heldConfig = cfg;
      const intervalsChanged =
        !prev || prev.telemetryIntervalS !== cfg.telemetryIntervalS || prev.timeSyncIntervalS !== cfg.timeSyncIntervalS;
      if (intervalsChanged && this.isOnline) this.schedulePeriodic();
    }
    this.emit('config', cfg, changed);
    // Reconcile even for an unchanged version: subscriptions are per connection, the held config is not.
    this.groupSubs.reconcile(this.heldConfig!.groups);
  }

  private onCommand(topic: string, payload: Buffer, via: CommandVia): void {
    const d = codec.cmd.decode(payload);
    if (d.ok) return this.intake.receive(d.value, via);
    this.malformed(topic, d.error);
    // Answer what can be answered: with a usable id the server learns at once instead of waiting for expiry.
    const id = usableId(payload);
    if (id) {
      const reply: CommandReply = { id, result: 'rejected', reason: 'malformed', ts: this.clock.nowMs() };
      this.sendReply(Buffer.from(JSON.stringify(reply)), false);
    }
  }

  private sendReply(encoded: Buffer, resent: boolean, onAck?: () => void): void {
    if (resent) this.counters.repliesResent++;
    this.outbox.add('reply', this.topic('reply'), encoded, onAck);
    this.emit('reply', JSON.parse(encoded.toString()) as CommandReply, { resent });
    this.flushOutbox();
  }

  private onTimeSynced(r: TimeSyncResult | null): void {
    this.syncSettled = true;
    if (r) this.lastOffset = r.offsetMs;
    if (r) this.counters.timeSyncs++;
    else {
      this.counters.timeSyncFailures++;
      if (this.isOnline) {
        this.timers.timeSyncRetry?.();
        this.timers.timeSyncRetry = this.sched.after(30_000, () => this.timeSync.start());
      }
    }
    this.emit('timeSync', r);
    this.intake.releaseDeferred();
    this.playback.onOffset();
  }

  // ---- outbound --------------------------------------------------------------------------------------------------

  /** Build and send one telemetry report now (also what the interval timer does). */
  sendTelemetry(): Telemetry | null {
    this.raise(this.state.advance());
    if (!this.isOnline) {
      this.counters.telemetrySkipped++;
      return null;
    }
    const t: Telemetry = {
      ts: this.clock.nowMs(),
      seq: this.seq++,
      ...this.state.sample(),
      uptimeS: Math.floor((this.clock.trueNow() - this.bootTrue) / 1000),
      clockOffsetMs: this.timeSync.offsetMs === null ? null : Math.round(this.timeSync.offsetMs * 10) / 10,
    };
    this.session.publish(this.topic('telemetry'), codec.telemetry.encode(t), 0, false, (ok) => {
      if (ok) this.counters.telemetrySent++;
    });
    this.emit('telemetry', t);
    // Retry anything a flaky link refused since the last report.
    this.flushOutbox();
    return t;
  }

  /** Stamp state-change events with id and device time, queue them, and send if online. */
  protected raise(events: StateEvent[]): void {
    if (!events.length) return;
    for (const e of events) {
      const ev = { id: `e-${this.eventIdBase}-${(++this.eventSeq).toString(36)}`, ts: this.clock.nowMs(), ...e } as DeviceEvent;
      this.counters.eventsRaised++;
      this.outbox.add('event', this.topic('event'), codec.event.encode(ev), () => this.counters.eventsSent++);
      this.emit('event', ev);
    }
    this.flushOutbox();
  }

  /** Queue an airing report (proof of play): buffered offline like events, sent oldest first. */
  private sendAiring(r: AiringReport): void {
    this.counters[COUNTER_OF[r.state]]++;
    this.outbox.add('airing', this.topic('airing'), codec.airing.encode(r), () => this.counters.airingReportsSent++);
    this.emit('airing', r);
    this.flushOutbox();
  }

  /** The manifest update could not be applied: ask for everything since `version`. Not buffered (birth says it). */
  private requestManifest(version: number): void {
    this.counters.manifestRequests++;
    if (!this.isOnline) return;
    this.session.publish(this.topic('manifest/req'), codec.manifestReq.encode({ version }), 1, false);
  }

  private flushOutbox(): void {
    if (!this.isOnline) return;
    this.outbox.flush(this.session.gen, (item, done) => {
      this.session.publish(item.topic, item.payload, 1, false, (ok) => {
        if (ok && item.kind === 'reply') this.counters.repliesSent++;
        done(ok);
      });
    });
  }

  protected timeSyncNow(): void {
    this.timeSync.start();
  }

  protected rescheduleBattery(): void {
    this.timers.battery?.();
    this.timers.battery = undefined;
    const ms = this.state.msUntilBatteryLow();
    if (ms === null || !this.running) return;
    this.timers.battery = this.sched.after(ms, () => {
      this.timers.battery = undefined;
      this.raise(this.state.advance());
      this.rescheduleBattery();
    });
  }

  protected topic(ch: Parameters<typeof deviceTopic>[1]): string {
    return deviceTopic(this.id, ch);
  }

  // ---- observability ---------------------------------------------------------------------------------------------

  get status(): SimClusterState {
    if (!this.running) return 'off';
    if (this.booting) return 'booting';
    if (this.isOnline) return 'online';
    return this.session.connected ? 'connected' : 'connecting';
  }
  get online(): boolean {
    return this.isOnline;
  }
  get connected(): boolean {
    return this.session.connected;
  }
  get config(): DeviceConfig | null {
    return this.heldConfig;
  }
  /** Groups whose command topic the broker granted on the current connection. */
  get groups(): string[] {
    return this.groupSubs.granted;
  }
  get clockOffsetMs(): number | null {
    return this.timeSync.offsetMs;
  }
  get clockRttMs(): number | null {
    return this.timeSync.rttMs;
  }
  /** The device's estimate of server time now, or null before the first sync. */
  serverTimeEstimate(): number | null {
    return this.timeSync.offsetMs === null ? null : this.clock.now() + this.timeSync.offsetMs;
  }
  /** What the amplifier plays at: the airing's own volume (or the emergency volume) while one airs, else the device's. */
  get volume(): number {
    return this.state.effectiveVolume;
  }
  get outputs(): Telemetry['outputs'] {
    return this.state.outputs.map((o) => ({ index: o.index, state: this.state.outputState(o) }));
  }
  get identifying(): boolean {
    return this.clock.trueNow() < this.identifyUntil;
  }
  get telemetryIntervalS(): number {
    return this.heldConfig?.telemetryIntervalS ?? this.o.telemetryIntervalS ?? 30;
  }
  get timeSyncIntervalS(): number {
    return this.heldConfig?.timeSyncIntervalS ?? this.o.timeSyncIntervalS ?? 600;
  }
  get lastBootReason(): RebootReason {
    return this.bootReason;
  }
  /** Events not yet acknowledged by the broker (buffered while offline). */
  get pendingEvents(): DeviceEvent[] {
    return this.outbox.peek('event').map((b) => JSON.parse(b.toString()) as DeviceEvent);
  }
  get pendingEventCount(): number {
    return this.outbox.events;
  }
  get eventsOverflowed(): number {
    return this.outbox.overflowed;
  }
  get linkState() {
    return this.session.linkState;
  }

  // ---- broadcasting ----------------------------------------------------------------------------------------------

  /** Version of the manifest held (0: none). Kept across reboots. */
  get manifestVersion(): number {
    return this.playback.manifestVersion;
  }
  /** Play items held: not yet aired to the end, expired, removed or cancelled. */
  get items(): PlayItem[] {
    return this.playback.items;
  }
  /** The airing on air, or null. */
  get nowPlaying(): NowPlaying | null {
    return this.playback.nowPlaying;
  }
  /** sha256 of every file held (verified). */
  get contentFiles(): string[] {
    return this.playback.content.heldFiles;
  }
  /** The verified bytes of a file (null if not held, or in contentFetch 'assume'). */
  content(sha256: string): Buffer | null {
    return this.playback.content.bytes(sha256);
  }
  /** Airing reports not yet acknowledged by the broker (buffered while offline). */
  get pendingAirings(): AiringReport[] {
    return this.outbox.peek('airing').map((b) => JSON.parse(b.toString()) as AiringReport);
  }
  get pendingAiringCount(): number {
    return this.outbox.airings;
  }
  /** The start record of airing `seq` of an item, if it started recently (the last 64 starts are kept). */
  playbackRecord(itemId: string, seq = 0): PlaybackRecord | undefined {
    return this.starts?.get(`${itemId}#${seq}`);
  }
}

