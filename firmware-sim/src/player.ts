/**
 * The player: the one airing on air (docs/device-protocol.md §10.5, §10.6). No audio: an airing is a timer of
 * `durationMs`. It starts what the scheduler (airing-scheduler.ts) says is due, at the position that keeps it in
 * step, and ends it — finished, interrupted (then resumed, restarted or dropped as the item's onPreempt says) or
 * cancelled. Every state change is reported.
 *
 * A start is driven by a timer armed for the device time of its target; when the timer fires late (or content
 * arrives late) by up to the sync window, the player seeks by the lateness so the audio stays in step with
 * neighbouring clusters — which is also how firmware keeps a DAC in step with a timeline.
 */
import type { AiringReporter } from './airing-report.ts';
import { serverNow, type Due } from './airing-rules.ts';
import type { Held, NowPlaying, PlaybackHost } from './playback-types.ts';
import { StreamOnAir, type StreamPlayerParts } from './stream-player.ts';
import type { StreamHttpOptions } from './stream-client.ts';
import { StreamStats, type StreamStatsView } from './stream-stats.ts';

interface Current {
  h: Held;
  seq: number;
  startDev: number;
  pos0: number;
  volume: number | null;
  /** File items: the end of the airing. */
  end: NodeJS.Timeout | null;
  /** Stream items (v1.2): the live airing, which ends itself (stream-player.ts). */
  stream: StreamOnAir | null;
}

/** What the player tells the scheduler that drives it. */
export interface PlayerOwner {
  /** Airing `seq` of `x` is over (finished, or dropped when interrupted). */
  advance(x: Held, seq: number): void;
  /** The air is free: decide again. */
  tick(): void;
}

export class Player {
  private cur: Current | null = null;
  /** Server time the air last became free (−Infinity since boot): when the next choice belongs (airing-rules.ts). */
  freeSince = -Infinity;
  private readonly streams: StreamPlayerParts;
  private statsByItem: Map<string, StreamStats> | null = null;

  constructor(
    private readonly h: PlaybackHost,
    private readonly reporter: AiringReporter,
    private readonly owner: PlayerOwner,
    private readonly syncWindowMs: number,
    http: StreamHttpOptions,
  ) {
    this.streams = { h, reporter, http, stats: (id) => this.statsOf(id) };
  }

  /** Playout figures of a stream item that went on air (kept for the cluster's life). */
  streamStats(itemId: string): StreamStatsView | null {
    return this.statsByItem?.get(itemId)?.view() ?? null;
  }

  private statsOf(itemId: string): StreamStats {
    const m = (this.statsByItem ??= new Map());
    let s = m.get(itemId);
    if (!s) m.set(itemId, (s = new StreamStats()));
    return s;
  }

  get nowPlaying(): NowPlaying | null {
    const c = this.cur;
    if (!c) return null;
    return { item: c.h.item, seq: c.seq, level: c.h.item.level, positionMs: Math.round(this.position(c)), volume: c.volume };
  }

  /** The item on air, if any. */
  get airing(): Held | undefined {
    return this.cur?.h;
  }

  /**
   * Put `d` on air now. Lateness, position and the record are all taken from one clock reading: the scheduler's
   * reading of server time is older, and a busy CPU can deschedule the process between the two for several ms
   * (seen: 3 and 9 ms on a 2-core box under load), by which the seek would leave the audio out of step.
   */
  start(d: Due): void {
    const x = d.h;
    const item = x.item;
    const clock = this.h.clock;
    const trueNow = clock.trueNow();
    const deviceNow = clock.at(trueNow);
    const offset = this.h.offset();
    const s = deviceNow + (offset ?? 0); // as serverNow() reads it (an unsynced device goes by its own clock)
    x.readySince = null;
    if (item.stream) return this.startStream(d, s);
    let pos: number;
    if (d.resume) {
      pos = x.suspended!.positionMs;
      x.suspended = null;
      this.reporter.report(x, d.seq, 'resumed', { positionMs: pos });
    } else {
      // Synchronised items seek by their lateness (within the sync window) so neighbours stay in step.
      const late = item.startAt !== null && d.target !== null ? s - d.target : 0;
      const seek = late <= this.syncWindowMs && late < item.content!.durationMs;
      pos = seek && late > 0 ? late : 0;
      if (d.seq === 0 && x.base === null) x.base = d.target ?? s;
      this.reporter.report(x, d.seq, 'started', { positionMs: pos });
      this.h.started({
        clusterId: this.h.clusterId,
        itemId: item.id,
        broadcastId: item.broadcastId,
        seq: d.seq,
        level: item.level,
        targetMs: d.target,
        positionMs: Math.round(pos),
        deviceMs: Math.round(deviceNow),
        serverMs: offset === null ? null : s,
        offsetMs: offset,
        trueStartMs: seek ? trueNow - late : trueNow,
        lateMs: late,
      });
    }
    const volume = item.level === 'emergency' ? this.h.emergencyVolume() : item.volume;
    const c: Current = {
      h: x,
      seq: d.seq,
      startDev: deviceNow,
      pos0: pos,
      volume,
      end: setTimeout(() => this.finish(c), Math.max(0, item.content!.durationMs - pos)),
      stream: null,
    };
    this.cur = c;
    this.h.setPlaying({ kind: 'content', ref: item.id, ...(item.title !== undefined ? { title: item.title } : {}) }, volume);
  }

  /**
   * A stream item goes on air (stream-player.ts reports it as the audio comes): slot = startAt, or now for the
   * first airing of an item without one. A resumed stream rejoins the live position.
   */
  private startStream(d: Due, s: number): void {
    const x = d.h;
    const item = x.item;
    if (d.seq === 0 && x.base === null) x.base = d.target ?? s;
    const resumedFrom = d.resume ? x.suspended!.positionMs : null;
    x.suspended = null;
    const volume = item.level === 'emergency' ? this.h.emergencyVolume() : item.volume;
    const c: Current = { h: x, seq: d.seq, startDev: this.h.clock.now(), pos0: 0, volume, end: null, stream: null };
    this.cur = c;
    c.stream = new StreamOnAir(this.streams, x, d.seq, d.target ?? x.base ?? s, resumedFrom, () => this.over(c));
    this.h.setPlaying({ kind: 'stream', ref: item.id, ...(item.title !== undefined ? { title: item.title } : {}) }, volume);
  }

  /** A stream airing reported its end: the air is free. */
  private over(c: Current): void {
    if (this.cur !== c) return;
    this.free();
    this.h.setPlaying(null, null);
    this.owner.advance(c.h, c.seq);
    this.owner.tick();
  }

  /** The radio link went: a live stream's connection dies with it (and reconnects with back-off). */
  linkLost(): void {
    this.cur?.stream?.linkLost();
  }

  private finish(c: Current): void {
    if (this.cur !== c) return;
    this.free();
    const x = c.h;
    this.reporter.report(x, c.seq, 'finished', { positionMs: x.item.content!.durationMs });
    this.h.setPlaying(null, null);
    this.owner.advance(x, c.seq);
    this.owner.tick();
  }

  /** A higher level (or a reboot) takes the air: report, then follow the item's onPreempt. */
  interrupt(why: 'preempted' | 'reboot'): void {
    const c = this.cur;
    if (!c) return;
    const pos = this.position(c);
    this.stopCurrent();
    const x = c.h;
    this.reporter.report(x, c.seq, 'interrupted', { positionMs: pos });
    switch (x.item.onPreempt) {
      // A live stream cannot restart: both rejoin the live position (stream-player.ts).
      case 'resume':
        x.suspended = { seq: c.seq, positionMs: pos };
        break;
      case 'restart':
        x.suspended = { seq: c.seq, positionMs: 0 };
        break;
      case 'drop':
        this.reporter.report(x, c.seq, 'skipped', { reason: why });
        this.owner.advance(x, c.seq);
        break;
    }
  }

  /** The item was removed or its broadcast cancelled: its airing on air (or suspended) ends as cancelled. */
  cancel(x: Held, reason: 'removed' | 'cancelled'): void {
    const c = this.cur;
    if (c?.h === x) {
      const pos = this.position(c);
      this.stopCurrent();
      this.reporter.report(x, c.seq, 'cancelled', { positionMs: pos, reason });
      this.h.setPlaying(null, null);
    } else if (x.suspended) {
      this.reporter.report(x, x.suspended.seq, 'cancelled', { positionMs: x.suspended.positionMs, reason });
    }
  }

  /**
   * Power goes: a reboot interrupts the airing on air (reported, then resumed, restarted or dropped after boot as
   * its onPreempt says); `silent` (power off for good, or a clean stop) just stops it.
   */
  powerDown(silent: boolean): void {
    if (!this.cur) return;
    if (silent) this.stopCurrent();
    else this.interrupt('reboot');
    this.h.setPlaying(null, null);
  }

  private stopCurrent(): void {
    const c = this.cur;
    if (!c) return;
    if (c.end) clearTimeout(c.end);
    c.stream?.stop();
    this.free();
  }

  private free(): void {
    this.cur = null;
    this.freeSince = serverNow(this.h).s;
  }

  private position(c: Current): number {
    if (c.stream) return c.stream.position();
    return Math.min(c.h.item.content!.durationMs, Math.max(0, c.pos0 + (this.h.clock.now() - c.startDev)));
  }
}
