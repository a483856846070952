/**
 * The protocol half of a simulated cluster: device protocol v1.1 (schemas/device-protocol/catalog.ts) as firmware
 * must implement it. ClusterCore is the whole of it as one class, built in layers, one concern per file:
 * cluster-base.ts (the parts and how they are wired), cluster-outbound.ts (what it publishes), cluster-lifecycle.ts
 * (power, reboot, connection), cluster-inbound.ts (what arrives) and, here, what can be observed. Connection
 * handling is in session.ts, the physical model in device-state.ts, command decisions in commands.ts, broadcasting
 * in playback.ts; the fault knobs that make up the rest of SimCluster's API are in sim-cluster.ts.
 */
import type { DeviceConfig, PlayItem, Telemetry } from '../../schemas/device-protocol/index.ts';
import { ClusterInbound } from './cluster-inbound.ts';
import {
  newCounters,
  type CommandVia,
  type RebootReason,
  type SimClusterEvents,
  type SimClusterOptions,
  type SimClusterState,
  type SimCounters,
} from './cluster-types.ts';
import type { NowPlaying, PlaybackRecord } from './playback-types.ts';
import type { StreamStatsView } from './stream-stats.ts';

export type { CommandVia, RebootReason, SimClusterEvents, SimClusterOptions, SimClusterState, SimCounters };
export { newCounters };

export class ClusterCore extends ClusterInbound {
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
  get lastBootReason(): RebootReason {
    return this.bootReason;
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
  /** The start record of airing `seq` of an item, if it started recently (the last 64 starts are kept). */
  playbackRecord(itemId: string, seq = 0): PlaybackRecord | undefined {
    return this.starts?.get(`${itemId}#${seq}`);
  }
  /** Playout figures of a live stream item this cluster put on air (v1.2), or null. */
  streamStats(itemId: string): StreamStatsView | null {
    return this.playback.streamStats(itemId);
  }
}
