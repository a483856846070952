/**
 * Live audio on the wire and at the speaker (protocol v1.2): one connection at a time to the stream (reconnected
 * with back-off while the airing is on air), a jitter buffer of timed pages, and the playout — what a receiver with a
 * DAC does, without decoding.
 *
 * Playout model: each page's audio spans the server instants [startS, endS) (stream-timeline.ts); the device plays
 * server instant t at device time t − θ (θ = server − device, the measured offset). The audio clock starts with the
 * first page played and pages are consumed at their instants: a page is queued for the DAC on arrival, and the true
 * instant its first sample is heard is the true time at which the device clock read startS − θ — a playout timer
 * that fires late does not move it (the DAC had the page queued), just as player.ts seeks a late file start. So the
 * timing error of every page is the time-sync error, and what differs between clusters is their clocks, not their
 * timers. A page that arrives after its instant is dropped (a cluster that fell behind skips to the live position);
 * when the next page played does not begin where the audio before it ended, the buffer ran dry: an underrun, with
 * its gap, reported once as the audio comes back.
 */
import type { StreamSpec } from '../../schemas/device-protocol/index.ts';
import type { PlaybackHost } from './playback-types.ts';
import { openStream, type StreamHttpOptions } from './stream-client.ts';
import type { StreamStats } from './stream-stats.ts';
import { NoEpoch, StreamTimeline, UnsupportedCodec, type TimedPage } from './stream-timeline.ts';

/** A playout timer this early (device ms) still plays the page: the DAC waits the difference. */
const EARLY_MS = 2;
/** Audio that resumes further than this past where it stopped is a gap (granules are exact; this is rounding). */
const GAP_TOLERANCE_MS = 1;
/** Reconnect back-off: 0.5 s doubling to 5 s, ± 30 %. */
const RETRY = { initialMs: 500, maxMs: 5000, jitter: 0.3 };

/** The first page of a join (or rejoin after an interruption) has played. */
export interface Joined {
  startS: number;
  trueMs: number;
  deviceMs: number;
  /** How late the playout timer fired (device ms), sought away. */
  lateMs: number;
  offset: number | null;
  granule: number;
}

export interface StreamPlayed {
  granule: number;
  targetMs: number;
  trueMs: number;
  bytes: Buffer;
}

export interface StreamAiringOwner {
  joined(j: Joined): void;
  underrun(gapMs: number): void;
  played(p: StreamPlayed): void;
  /** The stream ended (EOS) and what was queued of it has played. */
  ended(): void;
  /** The bytes are not Ogg/Opus. */
  unsupported(detail: string): void;
}

export class StreamAiring {
  private close: (() => void) | null = null;
  private retry: NodeJS.Timeout | null = null;
  private playout: NodeJS.Timeout | null = null;
  private attempt = 0;
  private timeline: StreamTimeline | null = null;
  private readonly buffer: TimedPage[] = [];
  /** Server instant the audio played so far ends at; null until the first page plays. */
  private audioEnd: number | null = null;
  private eosSeen = false;
  private stopped = false;

  constructor(
    private readonly h: PlaybackHost,
    private readonly http: StreamHttpOptions,
    private readonly spec: StreamSpec,
    private readonly stats: StreamStats,
    private readonly owner: StreamAiringOwner,
  ) {
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.close?.();
    this.close = null;
    if (this.retry) clearTimeout(this.retry);
    if (this.playout) clearTimeout(this.playout);
    this.retry = this.playout = null;
    this.buffer.length = 0;
  }

  /** The radio link went: the connection dies with it (and is retried with back-off). */
  linkLost(): void {
    if (!this.close) return;
    this.close();
    this.broken('link lost');
  }

  private connect(): void {
    this.retry = null;
    if (this.stopped) return;
    this.timeline = null;
    this.h.counters.streamConnects++;
    this.close = openStream(this.http, this.spec.url, {
      open: (epoch) => (this.timeline = new StreamTimeline(epoch, this.spec.latencyMs)),
      data: (chunk) => this.onData(chunk),
      end: () => this.broken('stream ended without EOS'),
      error: (detail) => this.broken(detail),
    });
  }

  private onData(chunk: Buffer): void {
    let pages: TimedPage[];
    try {
      pages = this.timeline!.push(chunk);
    } catch (err) {
      if (err instanceof UnsupportedCodec) {
        this.stop();
        return this.owner.unsupported(err.message);
      }
      this.close?.();
      return this.broken(err instanceof NoEpoch ? 'no epoch' : (err as Error).message);
    }
    for (const t of pages) this.arrive(t);
  }

  private arrive(t: TimedPage): void {
    if (t.page.eos) this.eosSeen = true;
    const devStart = t.startS - (this.h.offset() ?? 0);
    if (this.h.clock.now() > devStart) {
      this.stats.droppedLate++;
      if (t.page.eos) this.endAfterQueue();
      return;
    }
    this.attempt = 0; // audio flows again
    if (this.audioEnd !== null && t.startS < this.audioEnd - GAP_TOLERANCE_MS) return; // already played (a resend)
    let i = this.buffer.length;
    while (i > 0 && this.buffer[i - 1]!.startS > t.startS) i--;
    if (i > 0 && Math.abs(this.buffer[i - 1]!.startS - t.startS) < GAP_TOLERANCE_MS) return; // queued already
    this.buffer.splice(i, 0, t);
    if (i === 0) this.arm();
  }

  private arm(): void {
    if (this.playout) clearTimeout(this.playout);
    this.playout = null;
    const next = this.buffer[0];
    if (!next || this.stopped) return;
    const delay = next.startS - (this.h.offset() ?? 0) - this.h.clock.now();
    this.playout = setTimeout(() => this.play(), Math.max(0, delay));
  }

  /** Hand every page whose instant has come to the DAC, timed from one clock reading. */
  private play(): void {
    this.playout = null;
    const clock = this.h.clock;
    const trueNow = clock.trueNow();
    const dev = clock.at(trueNow);
    const offset = this.h.offset();
    while (this.buffer.length && this.buffer[0]!.startS - (offset ?? 0) <= dev + EARLY_MS) {
      const t = this.buffer.shift()!;
      const devStart = t.startS - (offset ?? 0);
      const trueMs = trueNow - (dev - devStart);
      if (this.audioEnd === null) {
        this.owner.joined({ startS: t.startS, trueMs, deviceMs: devStart, lateMs: dev - devStart, offset, granule: t.page.granule });
      } else if (t.startS > this.audioEnd + GAP_TOLERANCE_MS) {
        this.stats.underrun(t.startS - this.audioEnd);
        this.owner.underrun(t.startS - this.audioEnd);
      }
      this.audioEnd = t.endS;
      this.stats.played(trueMs - t.startS);
      this.owner.played({ granule: t.page.granule, targetMs: t.startS, trueMs, bytes: t.page.bytes });
      if (this.stopped) return;
    }
    if (this.eosSeen && !this.buffer.length) {
      // The stream is over once its last page has been heard.
      const endDev = (this.audioEnd ?? 0) - (offset ?? 0);
      this.stop();
      this.playout = setTimeout(() => this.owner.ended(), Math.max(0, endDev - clock.now()));
      return;
    }
    this.arm();
  }

  /** The EOS page came too late to play: the stream is over once what is queued has played. */
  private endAfterQueue(): void {
    if (this.buffer.length) return; // nothing after EOS will arrive: play() ends the airing once the queue is heard
    this.stop();
    queueMicrotask(() => this.owner.ended());
  }

  /** The connection ended or failed: over after an EOS; else reconnect with back-off while on air. */
  private broken(detail: string): void {
    this.close = null;
    if (this.stopped) return;
    if (this.eosSeen) {
      if (!this.buffer.length) this.endAfterQueue();
      return;
    }
    this.h.counters.streamErrors++;
    this.h.log.debug({ clusterId: this.http.clusterId, url: this.spec.url, detail }, 'stream connection failed');
    const base = Math.min(RETRY.maxMs, RETRY.initialMs * 2 ** Math.min(this.attempt, 20));
    this.attempt++;
    const delay = base * (1 - RETRY.jitter + 2 * RETRY.jitter * this.http.random());
    this.retry = setTimeout(() => this.connect(), delay);
  }
}
