/**
 * A stream item on air (protocol v1.2): what the player (player.ts) holds while a live airing takes the air, from
 * the moment it is due until it is over. The connection and the playout are stream-airing.ts; this is what the
 * airing means for its reports.
 *
 * Reports, in server time, with `slot` = startAt (or, without startAt, the moment it went on air):
 *  - `received` when the item arrives, and nothing more until it is due: there is no file, so no `downloaded`;
 *  - `started` when the first page is heard, positionMs = its instant − slot (0 without startAt): how far into the
 *    slot the cluster joined;
 *  - `underrun` (gapMs) once per gap, when the audio comes back at the live position;
 *  - `interrupted` / `resumed` (player.ts, then here when the audio is back at the live position: positionMs);
 *  - `finished` at slot + durationMs, or (open-ended) when the stream ends (EOS), or at expiresAt; a stream that
 *    ends more than a second before a fixed durationMs is `finished` with reason `stream_ended`;
 *  - `failed` / `stream_unavailable` when nothing was heard by the end of the airing (slot + durationMs, or
 *    expiresAt), however often it reconnected; `failed` / `unsupported_codec` for bytes that are not Ogg/Opus;
 *    `failed` / `stream_ended` when the stream ended before anything of it was heard;
 *  - `skipped` / `expired` for a resumed airing that got no audio back before its end.
 */
import type { StreamSpec } from '../../schemas/device-protocol/index.ts';
import type { AiringReporter } from './airing-report.ts';
import type { Held, PlaybackHost } from './playback-types.ts';
import { StreamAiring, type Joined } from './stream-airing.ts';
import type { StreamHttpOptions } from './stream-client.ts';
import type { StreamStats } from './stream-stats.ts';

/** A stream that ends this much before a fixed durationMs ended early. */
const EARLY_END_MS = 1000;

export interface StreamPlayerParts {
  h: PlaybackHost;
  reporter: AiringReporter;
  http: StreamHttpOptions;
  stats(itemId: string): StreamStats;
}

export class StreamOnAir {
  private readonly airing: StreamAiring;
  private readonly endTimer: NodeJS.Timeout;
  private joinedNow = false;
  private done = false;

  constructor(
    private readonly p: StreamPlayerParts,
    private readonly x: Held,
    private readonly seq: number,
    /** Server time the slot starts at. */
    readonly slotS: number,
    /** Position at the interruption this airing resumes from, or null for a start. */
    private readonly resumedFrom: number | null,
    /** Called once the airing is over (reported); the player frees the air. */
    private readonly over: () => void,
  ) {
    const spec = this.spec;
    const endS = Math.min(spec.durationMs !== null ? slotS + spec.durationMs : Infinity, x.item.expiresAt);
    const delay = endS - this.serverNow();
    this.endTimer = setTimeout(() => this.end(), Math.max(0, Math.min(2 ** 31 - 1, delay)));
    this.airing = new StreamAiring(p.h, p.http, spec, p.stats(x.item.id), {
      joined: (j) => this.joined(j),
      underrun: (gapMs) => this.p.reporter.report(x, seq, 'underrun', { gapMs }),
      played: (pg) => p.h.streamPage({ clusterId: p.h.clusterId, itemId: x.item.id, seq, ...pg }),
      ended: () => this.ended(),
      unsupported: (detail) => {
        p.h.log.warn({ clusterId: p.h.clusterId, itemId: x.item.id, detail }, 'stream is not Ogg/Opus');
        this.close('failed', { reason: 'unsupported_codec' });
      },
    });
  }

  private get spec(): StreamSpec {
    return this.x.item.stream!;
  }

  private serverNow(): number {
    return this.p.h.clock.now() + (this.p.h.offset() ?? 0);
  }

  /** How far into the slot the air is now. */
  position(): number {
    const d = this.spec.durationMs;
    const pos = Math.max(0, this.serverNow() - this.slotS);
    return d === null ? pos : Math.min(d, pos);
  }

  /** Stop at once, reporting nothing (the player reports the interruption or the cancellation). */
  stop(): void {
    this.done = true;
    clearTimeout(this.endTimer);
    this.airing.stop();
  }

  linkLost(): void {
    this.airing.linkLost();
  }

  private joined(j: Joined): void {
    const { h, reporter } = this.p;
    const item = this.x.item;
    const pos = item.startAt !== null || this.resumedFrom !== null ? Math.max(0, j.startS - this.slotS) : 0;
    this.joinedNow = true;
    if (this.resumedFrom !== null) return reporter.report(this.x, this.seq, 'resumed', { positionMs: pos });
    this.x.streamStarted = true;
    reporter.report(this.x, this.seq, 'started', { positionMs: pos });
    h.started({
      clusterId: h.clusterId,
      itemId: item.id,
      broadcastId: item.broadcastId,
      seq: this.seq,
      level: item.level,
      kind: 'stream',
      targetMs: j.startS,
      positionMs: Math.round(pos),
      deviceMs: Math.round(j.deviceMs),
      serverMs: j.offset === null ? null : j.startS,
      offsetMs: j.offset,
      trueStartMs: j.trueMs,
      lateMs: j.lateMs,
      granule: j.granule,
    });
  }

  /** slot + durationMs (or expiresAt) is reached. */
  private end(): void {
    if (this.done) return;
    if (this.resumedFrom !== null && !this.joinedNow) return this.close('skipped', { positionMs: this.resumedFrom, reason: 'expired' });
    if (!this.x.streamStarted) return this.close('failed', { reason: 'stream_unavailable' });
    // At slot + durationMs the position is durationMs, whatever ms the timer rounded to; at expiresAt, how far it got.
    const d = this.spec.durationMs;
    const byDuration = d !== null && this.slotS + d <= this.x.item.expiresAt;
    this.close('finished', { positionMs: byDuration ? d : this.position() });
  }

  /** The stream ended (EOS) and its last page has been heard. */
  private ended(): void {
    if (this.done) return;
    if (!this.x.streamStarted) return this.close('failed', { reason: 'stream_ended' });
    if (this.resumedFrom !== null && !this.joinedNow) return this.close('skipped', { positionMs: this.resumedFrom, reason: 'stream_ended' });
    const pos = this.position();
    const d = this.spec.durationMs;
    this.close('finished', { positionMs: pos, ...(d !== null && pos < d - EARLY_END_MS ? { reason: 'stream_ended' } : {}) });
  }

  private close(state: 'finished' | 'failed' | 'skipped', extra: { positionMs?: number; reason?: string }): void {
    if (this.done) return;
    this.stop();
    this.p.reporter.report(this.x, this.seq, state, extra);
    this.over();
  }
}
