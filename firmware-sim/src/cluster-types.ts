/** Options, events and counters of a simulated cluster, and the payload codecs it speaks. */
import {
  AiringReportSchema,
  BirthSchema,
  CommandReplySchema,
  CommandSchema,
  DeviceConfigSchema,
  DeviceEventSchema,
  GroupPlaySchema,
  ManifestRequestSchema,
  ManifestSchema,
  StatusSchema,
  TelemetrySchema,
  TimeRequestSchema,
  TimeResponseSchema,
  payloadCodec,
  type AiringReport,
  type Command,
  type CommandReply,
  type DeviceConfig,
  type DeviceEvent,
  type PlayItem,
  type Telemetry,
} from '../../schemas/device-protocol/index.ts';
import type { DeviceClock } from './clock.ts';
import type { ContentCache } from './content-cache.ts';
import type { ContentFetchMode, ContentRetryOptions } from './content-types.ts';
import type { PlaybackRecord, StreamPageEvent } from './playback-types.ts';
import type { OutputSpec, PhysicsOptions } from './device-state.ts';
import type { Scheduler } from './scheduler.ts';
import type { TimeSyncOptions, TimeSyncResult } from './time-sync.ts';
import type { Logger } from './types.ts';

export type RebootReason = 'power_on' | 'watchdog' | 'command' | 'brownout' | 'firmware_update' | 'crash' | 'unknown';

export interface SimClusterOptions {
  /** mqtt://host:port or mqtts://host:port */
  url: string;
  id: string;
  secret: string;
  outputs: OutputSpec[];
  firmware?: string;
  hardware?: string;
  model?: string;
  serial?: string;
  clock?: DeviceClock;
  /** TLS trust for mqtts:// (PEM). */
  ca?: string | Buffer | Array<string | Buffer>;
  rejectUnauthorized?: boolean;
  /** First reconnect delay; doubles per failed attempt up to reconnectMaxMs. Default 2000. */
  reconnectPeriodMs?: number;
  reconnectMaxMs?: number;
  /** ± fraction of each reconnect delay. Default 0.3. */
  reconnectJitter?: number;
  keepaliveS?: number;
  connectTimeoutMs?: number;
  /** Telemetry interval until a configuration arrives. Default 30 (the contract's default). */
  telemetryIntervalS?: number;
  /** Time sync interval until a configuration arrives. Default 600. */
  timeSyncIntervalS?: number;
  timeSync?: TimeSyncOptions;
  /** Send one telemetry report right after each birth, before the first interval elapses. Default true. */
  telemetryOnConnect?: boolean;
  /** How long a reboot keeps the device off the network. Default 3000. */
  bootDelayMs?: number;
  /** Events kept while offline. Default 500 (the contract's minimum). */
  eventBuffer?: number;
  physics?: PhysicsOptions;
  logger?: Logger;
  /** Shared scheduler (SimFleet); a lone cluster uses Node timers. */
  scheduler?: Scheduler;
  /** Slot in [0,1) of each interval for periodic work under a shared scheduler. */
  phase?: number;
  random?: () => number;

  // ---- broadcasting (protocol v1.1) ----
  /** Server HTTP base URL for content fetch, e.g. http://host:8080 (the fleet file's `http`). */
  httpUrl?: string;
  /**
   * 'http' (default): fetch, resume and verify every file as firmware must. 'assume': a simulation shortcut — no
   * HTTP at all, the file counts as verified `contentAssumeDelayMs` after the item arrives (for big benchmarks).
   */
  contentFetch?: ContentFetchMode;
  /** Delay of an assumed fetch. Default 0. */
  contentAssumeDelayMs?: number;
  /** Where verified files live. Default: a cache of this cluster's own; SimFleet passes one shared cache. */
  contentCache?: ContentCache;
  /**
   * Simulation shortcut: skip the HTTP download when another cluster sharing `contentCache` already verified the
   * file (or is downloading it). Default false: every cluster downloads for itself, as real devices do.
   */
  sharedDownloads?: boolean;
  /** Download retry back-off. Default 2 s doubling to 60 s, ±30 %. */
  contentRetry?: ContentRetryOptions;
  /** Idle timeout of a content request. Default 30000. */
  contentTimeoutMs?: number;
  /** A late start up to this far behind its time seeks to stay in step; later ones play from the start. Default 2000. */
  syncWindowMs?: number;
  /**
   * Device protocol minor version. 2 (default): v1.2 — birth declares `features: ['stream']` and live stream items
   * air. 1: a v1.1 device — no features, and a manifest or group play order holding an item without `content` fails
   * its validation (counted malformed, ignored), as v1.1 firmware's schema would.
   */
  protocolMinor?: 1 | 2;
}

export type CommandVia = { via: 'device' } | { via: 'group'; groupId: string };

export interface SimClusterEvents {
  connected: [];
  online: [];
  disconnected: [reason: string];
  connectError: [error: Error];
  config: [config: DeviceConfig, changed: boolean];
  groups: [groups: string[]];
  command: [command: Command, info: CommandVia & { duplicate: boolean }];
  executed: [command: Command];
  reply: [reply: CommandReply, info: { resent: boolean }];
  telemetry: [telemetry: Telemetry];
  event: [event: DeviceEvent];
  timeSync: [result: TimeSyncResult | null];
  malformed: [info: { topic: string; error: string }];
  rebooting: [reason: RebootReason];
  stopped: [];
  /** A play item was accepted (new, or an update of one held), from the manifest or a group play order. */
  item: [item: PlayItem];
  /** An airing report was queued for the server. */
  airing: [report: AiringReport];
  /** An airing started (not resumed): when, and how far from its target in true time. */
  playback: [record: PlaybackRecord];
  /** A page of a live stream was heard (v1.2): when, against its target, and its bytes. */
  streamPage: [page: StreamPageEvent];
}

export type SimClusterState = 'off' | 'booting' | 'connecting' | 'connected' | 'online';

export function newCounters() {
  return {
    boots: 0,
    connects: 0,
    disconnects: 0,
    connectErrors: 0,
    telemetrySent: 0,
    telemetrySkipped: 0,
    eventsRaised: 0,
    eventsSent: 0,
    repliesSent: 0,
    repliesResent: 0,
    commandsReceived: 0,
    commandsExecuted: 0,
    commandsExpired: 0,
    commandsRejected: 0,
    duplicates: 0,
    malformed: 0,
    subscribeRefused: 0,
    timeSyncs: 0,
    timeSyncFailures: 0,
    // broadcasting (v1.1)
    manifestsApplied: 0,
    manifestsIgnored: 0,
    manifestGaps: 0,
    /** "you are current" answers at the version held */
    manifestsCurrent: 0,
    manifestRequests: 0,
    itemsReceived: 0,
    itemsIgnored: 0,
    downloads: 0,
    downloadBytes: 0,
    downloadErrors: 0,
    hashMismatches: 0,
    airingReceived: 0,
    airingDownloaded: 0,
    airingStarted: 0,
    airingInterrupted: 0,
    airingResumed: 0,
    airingFinished: 0,
    airingFailed: 0,
    airingSkipped: 0,
    airingCancelled: 0,
    airingUnderrun: 0,
    airingReportsSent: 0,
    // live streams (v1.2)
    streamConnects: 0,
    streamErrors: 0,
  };
}
export type SimCounters = ReturnType<typeof newCounters>;

export const codec = {
  status: payloadCodec(StatusSchema),
  birth: payloadCodec(BirthSchema),
  config: payloadCodec(DeviceConfigSchema),
  cmd: payloadCodec(CommandSchema),
  reply: payloadCodec(CommandReplySchema),
  event: payloadCodec(DeviceEventSchema),
  telemetry: payloadCodec(TelemetrySchema),
  timeReq: payloadCodec(TimeRequestSchema),
  timeRes: payloadCodec(TimeResponseSchema),
  manifest: payloadCodec(ManifestSchema),
  manifestReq: payloadCodec(ManifestRequestSchema),
  groupPlay: payloadCodec(GroupPlaySchema),
  airing: payloadCodec(AiringReportSchema),
};
