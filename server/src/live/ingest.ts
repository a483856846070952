/**
 * One ffmpeg decoding an upstream (Icecast/SHOUTcast MP3, AAC or Ogg over HTTP, an HLS playlist, or a local file) to
 * the live path's PCM, loudness-levelled on the way. It reports how it fails, so the relay chain can fail over:
 * `http_error` (refused, 404 …), `decode_error` (not audio), `ended` (the upstream closed), `stalled` (no audio for
 * stallS: a link that hangs without closing).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from 'pino';
import { PCM_RATE, type PcmQueue } from './pcm.ts';

export type IngestFailure = 'http_error' | 'decode_error' | 'ended' | 'stalled';

export interface IngestOptions {
  input: string;
  ffmpeg: string;
  queue: PcmQueue;
  log: Logger;
  stallS: number;
  /** a local file played in a loop at real time (the filler) */
  loop?: boolean;
  onAudio?: () => void;
  onFailure: (reason: IngestFailure, detail: string) => void;
}

/**
 * dynaudnorm with a short frame levels speech and music towards the product's −16 LUFS with a few hundred ms of
 * look-ahead; loudnorm's live mode buffers seconds, which the 2 s glass-to-speaker budget cannot afford.
 */
const LEVEL = 'dynaudnorm=f=150:g=5:p=0.5:m=10,alimiter=limit=0.84';

export class Ingest {
  private ff: ChildProcess;
  private stallTimer: NodeJS.Timeout;
  private lastAudio: number;
  private stopped = false;
  private failed = false;
  private stderr = '';
  audioMs = 0;

  constructor(private o: IngestOptions) {
    const net = /^https?:/.test(o.input);
    const args = ['-hide_banner', '-nostdin', '-v', 'error'];
    if (net) args.push('-rw_timeout', String(o.stallS * 1_000_000), '-reconnect', '0');
    // HLS arrives a segment at a time: read it at its own pace so the bounded queue does not drop a burst.
    if (!net || o.input.includes('.m3u8')) args.push('-re');
    if (o.loop) args.push('-stream_loop', '-1');
    args.push('-probesize', '32768', '-analyzeduration', '500000', '-i', o.input, '-vn', '-af', LEVEL, '-ac', '1', '-ar', String(PCM_RATE), '-f', 's16le', 'pipe:1');
    this.ff = spawn(o.ffmpeg, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.lastAudio = Date.now();
    this.ff.stdout!.on('data', (pcm: Buffer) => {
      if (this.stopped) return;
      if (this.audioMs === 0) o.onAudio?.();
      this.audioMs += (pcm.length / 2 / PCM_RATE) * 1000;
      this.lastAudio = Date.now();
      o.queue.push(pcm);
    });
    this.ff.stderr!.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-1000)));
    this.ff.on('error', (err) => this.fail('decode_error', err.message));
    this.ff.on('exit', (code) => this.fail(this.classify(code), this.stderr.trim()));
    // Wall time, not the server clock: a stall is about this process not hearing its upstream.
    this.stallTimer = setInterval(() => {
      if (Date.now() - this.lastAudio > o.stallS * 1000) this.fail('stalled', `no audio for ${o.stallS} s`);
    }, 250);
    this.stallTimer.unref();
  }

  private classify(code: number | null): IngestFailure {
    const e = this.stderr;
    if (/Server returned|Connection refused|HTTP error|403|404|5\d\d|timed out|Failed to resolve/i.test(e)) return 'http_error';
    if (code === 0 || (this.audioMs > 0 && !/Invalid data|could not find codec|decod/i.test(e))) return 'ended';
    return 'decode_error';
  }

  private fail(reason: IngestFailure, detail: string): void {
    if (this.stopped || this.failed) return;
    this.failed = true;
    this.stop();
    this.o.log.warn({ input: this.o.input, reason, detail: detail.slice(-300) }, 'upstream failed');
    this.o.onFailure(reason, detail);
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.stallTimer);
    if (this.ff.exitCode === null) this.ff.kill('SIGKILL');
  }
}
