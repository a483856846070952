/**
 * The parts of a simulated cluster and how they are wired: MQTT session, outbox, time sync, command intake, group
 * subscriptions, broadcasting (playback.ts) and the physical model, plus the protocol state they share. What the
 * cluster does with them is layered on top, one concern per file: cluster-outbound.ts (what it publishes),
 * cluster-lifecycle.ts (power, reboot, connection), cluster-inbound.ts (what arrives) and cluster-core.ts (what can
 * be observed). The hooks declared abstract here are where the parts call up into those layers.
 */
import { EventEmitter } from 'node:events';
import { deviceTopic, type AiringReport, type DeviceConfig } from '../../schemas/device-protocol/index.ts';
import { DeviceClock } from './clock.ts';
import { codec, newCounters, type RebootReason, type SimClusterEvents, type SimClusterOptions, type SimCounters } from './cluster-types.ts';
import { CommandIntake } from './command-intake.ts';
import { ContentCache } from './content-cache.ts';
import { DeviceState, type StateEvent } from './device-state.ts';
import { GroupSubscriptions } from './groups.ts';
import { Outbox } from './outbox.ts';
import { Playback } from './playback.ts';
import type { PlaybackRecord } from './playback-types.ts';
import { hashString, seededRandom } from './rng.ts';
import { TimerScheduler, type Cancel, type Scheduler } from './scheduler.ts';
import { Session } from './session.ts';
import { TimeSync, type TimeSyncResult } from './time-sync.ts';
import { silentLogger, type Logger } from './types.ts';

const WILL = Buffer.from('{"state":"offline"}');
/** Start records kept per cluster for SimFleet.startErrors (most recent first out). */
const KEEP_PLAYBACK_RECORDS = 64;

export abstract class ClusterBase extends EventEmitter<SimClusterEvents> {
  readonly id: string;
  readonly clock: DeviceClock;
  readonly counters: SimCounters = newCounters();
  readonly state: DeviceState;
  protected readonly session: Session;
  protected running = false;
  protected readonly o: SimClusterOptions;
  protected readonly sched: Scheduler;
  protected readonly log: Logger;
  protected readonly outbox: Outbox;
  protected readonly intake: CommandIntake;
  protected readonly timeSync: TimeSync;
  protected readonly eventIdBase: string;
  protected eventSeq = 0;
  protected booting = false;
  protected isOnline = false;
  protected heldConfig: DeviceConfig | null = null;
  protected readonly groupSubs: GroupSubscriptions;
  protected readonly playback: Playback;
  /** Latest measured offset, kept across reboots (the RTC keeps running): what the player schedules with. */
  protected lastOffset: number | null = null;
  /** A time-sync burst has ended at least once (with or without a result). */
  protected syncSettled = false;
  /** Device time of the last successful time sync: how stale `lastOffset` is (crystals drift up to ±50 ppm). */
  protected syncedAt: number | null = null;
  protected starts: Map<string, PlaybackRecord> | null = null;
  protected bootAt = 0;
  protected bootTrue = 0;
  protected bootReason: RebootReason = 'power_on';
  /** Device protocol minor version (SimClusterOptions.protocolMinor). */
  readonly protocolMinor: 1 | 2;
  protected seq = 0;
  protected identifyUntil = 0;
  protected timers: Partial<Record<'telemetry' | 'timeSync' | 'timeSyncRetry' | 'boot' | 'battery', Cancel>> = {};
  protected firstOnline: { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } | null = null;

  constructor(opts: SimClusterOptions) {
    super();
    this.o = opts;
    this.id = opts.id;
    this.protocolMinor = opts.protocolMinor ?? 2;
    this.clock = opts.clock ?? new DeviceClock();
    this.log = opts.logger ?? silentLogger;
    const random = opts.random ?? Math.random;
    this.sched = opts.scheduler ?? new TimerScheduler((e) => this.log.error({ clusterId: this.id, err: String(e) }, 'timer task failed'));
    this.state = new DeviceState(opts.outputs, seededRandom(hashString(opts.id)), this.clock.trueNow, opts.physics);
    this.outbox = new Outbox(opts.eventBuffer ?? 500);
    this.eventIdBase = Math.floor(this.clock.trueNow()).toString(36);
    this.timeSync = new TimeSync(
      this.clock,
      (req, onWire) => this.session.publish(this.topic('time/req'), codec.timeReq.encode(req), 0, false, undefined, onWire),
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
        itemAccepted: (item) => {
          this.resyncBefore(item.startAt);
          this.emit('item', item);
        },
        started: (rec) => {
          const starts = (this.starts ??= new Map());
          starts.delete(`${rec.itemId}#${rec.seq}`);
          starts.set(`${rec.itemId}#${rec.seq}`, rec);
          if (starts.size > KEEP_PLAYBACK_RECORDS) starts.delete(starts.keys().next().value as string);
          this.emit('playback', rec);
        },
        streamPage: (ev) => this.emit('streamPage', ev),
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
        message: (topic, payload, _qos, lateMs) => this.onMessage(topic, payload, lateMs),
        connectError: (err) => {
          this.counters.connectErrors++;
          this.log.debug({ clusterId: this.id, err: err.message }, 'connect failed');
          this.emit('connectError', err);
        },
        link: (state) => (state === 'up' ? this.playback.content.linkRestored() : this.playback.linkLost()),
      },
    );
  }

  protected topic(ch: Parameters<typeof deviceTopic>[1]): string {
    return deviceTopic(this.id, ch);
  }

  // ---- hooks: implemented by the layers above ---------------------------------------------------------------------

  abstract reboot(reason?: RebootReason): Promise<void>;
  protected abstract onConnected(): void;
  protected abstract onDisconnected(reason: string): void;
  protected abstract onMessage(topic: string, payload: Buffer, lateMs?: number): void;
  protected abstract onTimeSynced(r: TimeSyncResult | null): void;
  protected abstract raise(events: StateEvent[]): void;
  protected abstract sendReply(encoded: Buffer, resent: boolean, onAck?: () => void): void;
  protected abstract sendAiring(r: AiringReport): void;
  protected abstract requestManifest(version: number): void;

  /**
   * Synchronised start (contract §10.4): an offset measured up to one re-sync interval ago may have drifted by
   * 50 ppm × 600 s = 30 ms, three times the start budget. So a device re-syncs RESYNC_LEAD_MS before a scheduled
   * start (at once when the start is sooner) unless its last sync is younger than RESYNC_MAX_AGE_MS (≤ 3 ms drift).
   */
  protected resyncBefore(startAt: number | null): void {
    if (startAt === null || this.lastOffset === null) return;
    const lead = startAt - (this.clock.now() + this.lastOffset);
    if (!(lead > 0) || lead > MAX_RESYNC_AHEAD_MS) return;
    this.sched.after(Math.max(0, lead - RESYNC_LEAD_MS), () => {
      const age = this.syncedAt === null ? Infinity : this.clock.now() - this.syncedAt;
      if (this.isOnline && age > RESYNC_MAX_AGE_MS) this.timeSync.start();
    });
  }
}

export const RESYNC_LEAD_MS = 10_000;
export const RESYNC_MAX_AGE_MS = 60_000;
/** starts further ahead than this get their fresh sync from the periodic ones (or a later re-send of the item) */
const MAX_RESYNC_AHEAD_MS = 24 * 3_600_000;
