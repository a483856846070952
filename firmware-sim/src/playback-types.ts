/** Types shared by the parts of Playback (playback.ts): what it needs from its cluster, what it shows, what it holds. */
import type { AiringReport, Level, PlayItem } from '../../schemas/device-protocol/index.ts';
import type { DeviceClock } from './clock.ts';
import type { SimCounters } from './cluster-types.ts';
import type { Playing } from './device-state.ts';
import type { Logger } from './types.ts';

/** One airing start, for tests and benchmarks that measure synchronisation against true time. */
export interface PlaybackRecord {
  clusterId: string;
  itemId: string;
  broadcastId: string;
  seq: number;
  level: Level;
  /** 'stream' (v1.2): a live airing, whose record is its first page heard; absent = a file ('content'). */
  kind?: 'content' | 'stream';
  /**
   * Server time the airing was due (startAt + seq·step); null for an as-soon-as-possible airing. A stream: the
   * server instant the first page heard was stamped for (stampOf), whatever the slot.
   */
  targetMs: number | null;
  /** Where the audio started (> 0 when a late start seeks to stay in step). */
  positionMs: number;
  /** Device clock at the start. */
  deviceMs: number;
  /** The device's estimate of server time at the start (null without a measured offset). */
  serverMs: number | null;
  /** The clock offset (server − device) the start was timed with; a later re-sync does not change it. */
  offsetMs: number | null;
  /**
   * True time (clock.trueNow()) at which position 0 of this airing plays: for an on-time start, or a late one that
   * seeks, the moment the device believed server time reached `targetMs`. Start error = trueStartMs − targetMs
   * against a server on true time.
   */
  trueStartMs: number;
  /** How late (device ms) the start was against the target when it happened; negative = early, compensated. */
  lateMs: number;
  /** Stream: the granule position of the first page heard. */
  granule?: number;
}

/** One page of a live stream heard by a cluster: what and when, for tests that reassemble or time the audio. */
export interface StreamPageEvent {
  clusterId: string;
  itemId: string;
  seq: number;
  /** Ogg granule position at the end of the page. */
  granule: number;
  /** Server instant its first sample is due (stampOf of the page before, latency included). */
  targetMs: number;
  /** True time (clock.trueNow()) its first sample is heard: error = trueMs − targetMs against a server on true time. */
  trueMs: number;
  /** The Ogg page as it travelled. */
  bytes: Buffer;
}

export interface NowPlaying {
  item: PlayItem;
  seq: number;
  level: Level;
  positionMs: number;
  /** Volume the airing plays at. */
  volume: number | null;
}

export interface PlaybackOptions {
  /** A start this late (or less) seeks to stay in sync; later ones play from the start. Default 2000. */
  syncWindowMs?: number;
}

export interface PlaybackHost {
  clusterId: string;
  clock: DeviceClock;
  log: Logger;
  counters: SimCounters;
  /** server − device: the latest measured offset (kept across reboots), or null if none was ever measured. */
  offset(): number | null;
  /** The first time sync is under way: timed starts and expiry wait for it rather than trust the raw clock. */
  syncPending(): boolean;
  emergencyVolume(): number;
  report(r: AiringReport): void;
  requestManifest(version: number): void;
  setPlaying(p: Playing, volume: number | null): void;
  itemAccepted(item: PlayItem): void;
  started(rec: PlaybackRecord): void;
  /** A page of a live stream was heard. */
  streamPage(ev: StreamPageEvent): void;
}

/** A play item held, with the progress of its airings. */
export interface Held {
  item: PlayItem;
  arrival: number;
  /** Next airing that is not over yet (finished, failed, skipped, cancelled). */
  next: number;
  /** Server time of airing 0, for the later airings of an item without startAt. */
  base: number | null;
  /** An interrupted airing waiting to resume (or restart). */
  suspended: { seq: number; positionMs: number } | null;
  /** When the due airing began waiting behind another (maxWaitS counts from here). */
  readySince: number | null;
  /** sha256 for which `downloaded` was reported. */
  downloaded: string | null;
  /** Last failure reported, so a retry loop does not repeat the same report. */
  failReason: string | null;
  /** Arrived after its expiresAt: reported, never fetched or aired. */
  arrivedExpired: boolean;
  /** Stream items: `started` was reported (the audio was heard once). */
  streamStarted?: boolean;
}
