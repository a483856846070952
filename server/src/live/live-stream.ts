/**
 * One live stream: PCM from whatever feeds it, paced on the server clock into an Ogg/Opus encoder, and the pages
 * handed to every listener (devices over HTTP, the recording, an Icecast source client).
 *
 * The timeline is the contract devices rely on (schemas/device-protocol/stream.ts): the pacer writes exactly
 * round((t − epoch) · 48) samples by server time t, from the feed or silence when it has none, so sample n entered
 * the encoder at epoch + n / 48 ms and a page of granule g is heard at stampOf(epoch, g, preSkip, latency).
 * test/live-stream.test.ts checks that ffmpeg's granules keep that mapping: a tone fed at 702.56 ms decodes where its
 * page's granule puts it at 702.67 ms (the codec's own 6-sample smear), so no granule is rewritten.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { OggPageReader, opusPreSkip, STREAM_EPOCH_TAG, type OggPage } from '../../../schemas/device-protocol/stream.ts';
import { BYTES_PER_SAMPLE, PCM_RATE, samplesToMs, type PcmQueue } from './pcm.ts';
import { Recorder } from './recorder.ts';

const TICK_MS = 10;
/** Opus frames of 20 ms: every packet but the last carries this many samples. */
const FRAME_SAMPLES = 960;
/**
 * Page duration 40 ms (two packets a page). Measured on the bundled ffmpeg 4.1 (2-core box, idle): a page leaves
 * ~60 ms after its last sample went in (p90 70, max 75), so its first sample waits ~100 ms. 20 ms pages gain 20 ms
 * but cost 28 bytes of page header per 80-byte packet (+35 % on a 4G link); 60 ms pages add 20 ms more.
 */
const PAGE_DURATION_US = 40_000;
/** At most this much audio written in one tick: a clock that jumps hours ahead must not allocate hours of PCM at once. */
const MAX_TICK_SAMPLES = 5 * PCM_RATE;
/** Past this, stdin is not fed more until ffmpeg drains it (the pacer catches up at encoder speed). */
const MAX_STDIN_BYTES = 1 << 20;
const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 10_000;

export interface LiveStreamOptions {
  id: string;
  kind: 'relay' | 'microphone';
  now: () => number;
  ffmpeg: string;
  log: Logger;
  /** Opus bit rate, bit/s (default 32 000: speech and music in mono) */
  bitrate?: number;
  /** where the recording of the stream as aired is written; null or absent = no recording */
  recordPath?: string | null;
}

export interface LiveRecording {
  path: string;
  durationMs: number;
  bytes: number;
}

export class LiveStream extends EventEmitter {
  readonly id: string;
  readonly kind: 'relay' | 'microphone';
  /** Server time (ms) of sample 0; set by start(). */
  epochMs = NaN;
  preSkip = 0;
  /** Audio pages and their bytes out of the encoder; pages dropped for slow listeners (counted by the route). */
  pagesOut = 0;
  bytesOut = 0;
  droppedPages = 0;
  /** Time from a page's last sample entering the encoder to the page coming out, last page and worst so far. */
  latencyMs: number | null = null;
  maxLatencyMs = 0;

  private child: ChildProcessWithoutNullStreams | null = null;
  private feedQ: PcmQueue | null = null;
  private written = 0;
  private timer: NodeJS.Timeout | null = null;
  private head: Buffer[] = [];
  private sinks = new Set<(page: OggPage) => void>();
  private recorder: Recorder | null = null;
  /** Samples in the packets the encoder has emitted so far (see check). */
  private packetSamples = 0;
  private checked = false;
  private lastGranule = 0;
  private done = false;
  private exited: Promise<void> | null = null;
  private stopping: Promise<LiveRecording | null> | null = null;

  constructor(private readonly o: LiveStreamOptions) {
    super();
    // Every listener (a device's connection, the Icecast push) waits for 'ended': a thousand is normal, not a leak.
    this.setMaxListeners(0);
    this.id = o.id;
    this.kind = o.kind;
  }

  /** Spawns the encoder and starts the pacer; resolves once the header pages (OpusHead, OpusTags) are out. */
  start(): Promise<void> {
    this.epochMs = this.o.now();
    // -probesize/-analyzeduration: raw PCM needs no probing, and ffmpeg's default probe held the first page ~1 s.
    const args = ['-hide_banner', '-nostdin', '-v', 'error', '-probesize', '32', '-analyzeduration', '0',
      '-f', 's16le', '-ar', String(PCM_RATE), '-ac', '1', '-i', 'pipe:0',
      '-c:a', 'libopus', '-b:a', String(this.o.bitrate ?? 32_000), '-application', 'audio', '-frame_duration', '20',
      '-f', 'ogg', '-page_duration', String(PAGE_DURATION_US), '-flush_packets', '1',
      '-metadata', `${STREAM_EPOCH_TAG}=${this.epochMs}`, 'pipe:1'];
    const child = spawn(this.o.ffmpeg, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    if (this.o.recordPath) this.recorder = new Recorder(this.o.recordPath);
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
    child.stdin.on('error', () => undefined); // EPIPE when the encoder died: reported on exit
    const reader = new OggPageReader();
    return new Promise<void>((resolve, reject) => {
      const timeout = setTimeout(() => child.kill('SIGKILL'), START_TIMEOUT_MS);
      child.stdout.on('data', (chunk: Buffer) => {
        for (const p of reader.push(chunk)) {
          if (this.head.length < 2) {
            this.head.push(p.bytes);
            this.recorder?.write(p.bytes);
            if (this.head.length === 1) this.preSkip = opusPreSkip(p.body);
            if (this.head.length === 2) (clearTimeout(timeout), resolve());
          } else this.out(p);
        }
      });
      this.exited = new Promise<void>((done) => {
        let gone = false;
        const exit = (why: string) => {
          if (gone) return;
          gone = true;
          clearTimeout(timeout);
          this.stopPacer();
          if (this.head.length < 2) {
            this.recorder?.abort();
            this.recorder = null;
            reject(new Error(`live encoder did not start (${why}): ${stderr.trim()}`));
          } else if (!this.stopping) {
            const err = new Error(`live encoder exited (${why}): ${stderr.trim()}`);
            this.o.log.error({ err, stream: this.id }, 'live encoder died');
            if (this.listenerCount('error')) this.emit('error', err);
          }
          this.finish();
          done();
        };
        child.on('error', (err) => exit(err.message));
        child.on('close', (code, signal) => exit(signal ?? `code ${code}`));
      });
      this.timer = setInterval(() => this.pace(), TICK_MS);
      this.timer.unref();
      this.pace();
    });
  }

  /** What the pacer takes audio from from now on; null = silence. */
  feed(q: PcmQueue | null): void {
    this.feedQ = q;
  }

  /** The OpusHead and OpusTags pages: what a listener joining late needs before any live page. */
  headers(): Buffer[] {
    return [...this.head];
  }

  /** Every audio page from now on (the last one has `eos`); returns the unsubscribe. */
  subscribe(fn: (page: OggPage) => void): () => void {
    this.sinks.add(fn);
    return () => void this.sinks.delete(fn);
  }

  /** How many listen now. (Not `listeners`: EventEmitter already has a method of that name.) */
  get audience(): number {
    return this.sinks.size;
  }
  get ended(): boolean {
    return this.done;
  }

  /**
   * Ends the stream: the pacer writes what is due, the encoder flushes and writes the end-of-stream page, listeners
   * get it, 'ended' is emitted, and the recording is closed and returned (null when not recording).
   */
  stop(): Promise<LiveRecording | null> {
    return (this.stopping ??= (async () => {
      if (this.child && this.exited && !this.done) {
        this.pace();
        this.stopPacer();
        this.child.stdin.end();
        const kill = setTimeout(() => this.child?.kill('SIGKILL'), STOP_TIMEOUT_MS);
        await this.exited;
        clearTimeout(kill);
      }
      this.finish();
      if (!this.recorder) return null;
      const durationMs = Math.round(samplesToMs(Math.max(0, this.lastGranule - this.preSkip)));
      return { ...(await this.recorder.finish()), durationMs };
    })());
  }

  private pace(): void {
    const stdin = this.child?.stdin;
    if (!stdin?.writable || stdin.writableLength > MAX_STDIN_BYTES) return;
    const due = Math.round(((this.o.now() - this.epochMs) * PCM_RATE) / 1000) - this.written;
    if (due <= 0) return;
    const n = Math.min(due, MAX_TICK_SAMPLES);
    if (due > PCM_RATE) this.o.log.warn({ stream: this.id, behindMs: Math.round(samplesToMs(due)) }, 'live pacer catching up a stall');
    stdin.write(this.feedQ ? this.feedQ.take(n) : Buffer.alloc(n * BYTES_PER_SAMPLE));
    this.written += n;
  }

  private out(p: OggPage): void {
    this.check(p);
    this.pagesOut++;
    this.bytesOut += p.bytes.length;
    if (p.granule >= 0) this.lastGranule = p.granule;
    // The end-of-stream page is a flush, not a measure of the encoder's delay.
    if (p.granule >= 0 && !p.eos) {
      this.latencyMs = this.o.now() - (this.epochMs + samplesToMs(p.granule - this.preSkip));
      this.maxLatencyMs = Math.max(this.maxLatencyMs, this.latencyMs);
    }
    this.recorder?.write(p.bytes);
    for (const sink of this.sinks) {
      try {
        sink(p);
      } catch (err) {
        this.o.log.warn({ err, stream: this.id }, 'live listener failed');
      }
    }
  }

  /**
   * After k packets of 20 ms the granule is k · 960 (the muxer adds the pre-skip the decoder drops) when ffmpeg took
   * every sample from sample 0. A larger first granule means ffmpeg dropped the start of its input (it does with
   * `-fflags nobuffer`: +1024, the first 1024 samples lost); its granules then still count input samples, so the
   * timeline holds and nothing is rewritten, but the loss is worth a warning.
   */
  private check(p: OggPage): void {
    this.packetSamples += packetsEnding(p) * FRAME_SAMPLES;
    if (this.checked || p.granule < 0 || p.eos) return;
    this.checked = true;
    const lost = p.granule - this.packetSamples;
    if (lost !== 0) this.o.log.warn({ stream: this.id, lost }, 'live encoder did not start at sample 0');
  }

  private stopPacer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.stopPacer();
    this.emit('ended');
    this.sinks.clear();
  }
}

/** How many packets end on an Ogg page: a lacing value below 255 closes a packet (RFC 3533 §6). */
export function packetsEnding(page: OggPage): number {
  const segments = page.bytes[26]!;
  let n = 0;
  for (let i = 0; i < segments; i++) if (page.bytes[27 + i]! < 255) n++;
  return n;
}
