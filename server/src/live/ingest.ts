/**
 * One ffmpeg decoding an upstream (Icecast/SHOUTcast MP3, AAC or Ogg over HTTP, an HLS playlist, or a local file) to
 * the live path's PCM, loudness-levelled on the way, pushed into a PcmQueue. It says how it fails, so the relay chain
 * can fail over: `http_error` (refused, 404 …), `decode_error` (not audio), `ended` (the upstream closed), `stalled`
 * (no audio for stallS: a link that hangs without closing, which only a timer of ours can see).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from 'pino';
import { PCM_RATE, samplesToMs, type PcmQueue } from './pcm.ts';

export type IngestFailure = 'http_error' | 'decode_error' | 'ended' | 'stalled';

export interface IngestOptions {
  /** http(s) URL or a local file path */
  input: string;
  ffmpeg: string;
  queue: PcmQueue;
  log: Logger;
  stallS: number;
  /** a local file played in a loop at real time (the filler) */
  loop?: boolean;
  /** the first PCM arrived */
  onAudio?: () => void;
  /** called once, after which the ingest is stopped; never after stop() */
  onFailure: (reason: IngestFailure, detail: string) => void;
}

/**
 * Levelling towards the product's −16 LUFS (content/transcode.ts TARGET) without loudnorm: its live mode holds a 3 s
 * look-ahead (measured: 2.95 s from PCM in to PCM out), more than the whole glass-to-speaker budget. dynaudnorm with
 * 100 ms frames and a 3-frame Gaussian measured 0.32 s (f=150, g=5 was 0.78 s). `r=0.2` makes it aim at an RMS of
 * −14 dBFS, which on programme material lands at −16 ± 1.5 LUFS (pink-noise programmes from −27 and −18 LUFS came
 * out at −16.0 and −16.2); `m=10` caps the boost at 20 dB so a pause is not pumped up into hiss; alimiter (5 ms
 * look-ahead, auto-level off) holds the peaks the encoder must not clip.
 */
export const LEVELLER = 'aformat=channel_layouts=mono,dynaudnorm=f=100:g=3:p=0.7:m=10:r=0.2:s=0,alimiter=limit=0.84:level=0';
/** What LEVELLER adds to the delay, measured as above; reported in status and docs. */
export const LEVELLER_DELAY_MS = 320;

const HTTP_ERROR = /Server returned|Connection refused|HTTP error|Connection reset|Connection timed out|timed out|Failed to resolve|No route to host|Network is unreachable|Operation timed out/i;
const DECODE_ERROR = /Invalid data|could not find codec|Header missing|Error while decoding|invalid|not supported|no frame/i;
/** Garbage that happens to contain MP3 sync words decodes to "audio": this many decoder complaints say it is not. */
const DECODE_ERRORS_MAX = 20;

/** Extra seconds the first audio may take, beyond stallS. */
const STARTUP_S = 2;
const STARTUP_HLS_S = 6;

export function ingestArgs(o: Pick<IngestOptions, 'input' | 'stallS' | 'loop'>): string[] {
  const net = /^https?:\/\//i.test(o.input);
  const hls = net && /\.m3u8(\?|$)/i.test(o.input);
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error'];
  if (net) {
    // A dead link must fail in seconds, not after the kernel's TCP timeouts; no silent reconnects (the chain decides).
    // A little longer than stallS, so a link that hangs mid-stream is reported by our timer as `stalled`.
    args.push('-rw_timeout', String((o.stallS + 2) * 1_000_000), '-reconnect', '0');
  }
  // Icecast bursts ~64 KB on connect and then sends at the upstream's pace: read as fast as it comes and let the
  // queue's bound drop the burst (the relay joins the live position). HLS would arrive as one burst per segment and
  // the bound would cut every one of them, so it is read at its own pace (-re), as is the filler file.
  if (hls || !net) args.push('-re');
  if (o.loop) args.push('-stream_loop', '-1');
  // Small probe: MP3/AAC/Ogg are recognised from their first frames, and every byte probed is delay; garbage would
  // otherwise be probed silently up to 1 MB (a minute at radio rates); 16 KB is 40 frames of 128 kb/s MP3 before "Invalid data". HLS needs a
  // whole MPEG-TS packet run to find its AAC stream, so it keeps ffmpeg's defaults.
  // No `-fflags nobuffer`: it discards what was read while probing (measured: the first 1.4 s of an MP3 file), and
  // the queue's bound already drops whatever would put the relay behind live.
  if (!hls) args.push('-probesize', '32768', '-formatprobesize', '16384', '-analyzeduration', '500000');
  args.push('-i', o.input, '-vn', '-af', LEVELLER, '-ac', '1', '-ar', String(PCM_RATE), '-f', 's16le', '-flush_packets', '1', 'pipe:1');
  return args;
}

export class Ingest {
  private readonly ff: ChildProcess;
  private readonly stallTimer: NodeJS.Timeout;
  private lastAudio: number;
  private stopped = false;
  private stderr = '';
  private decodeErrors = 0;
  /** PCM delivered so far, ms */
  audioMs = 0;
  /** where the PCM goes; a probe's scratch queue until the chain promotes it to the air */
  queue: PcmQueue;

  constructor(private readonly o: IngestOptions) {
    this.queue = o.queue;
    this.ff = spawn(o.ffmpeg, ingestArgs(o), { stdio: ['ignore', 'pipe', 'pipe'] });
    // Wall time, not the injected clock: a stall is about this process not hearing its upstream, in real seconds.
    this.lastAudio = Date.now();
    let odd: Buffer | null = null;
    this.ff.stdout!.on('data', (data: Buffer) => {
      if (this.stopped) return;
      // A pipe read may end mid-sample; the queue keeps whole samples only, so the odd byte waits for the next read.
      let pcm = odd ? Buffer.concat([odd, data]) : data;
      odd = pcm.length % 2 ? pcm.subarray(pcm.length - 1) : null;
      if (odd) pcm = pcm.subarray(0, pcm.length - 1);
      if (pcm.length === 0) return;
      if (this.audioMs === 0) o.onAudio?.();
      this.audioMs += samplesToMs(pcm.length / 2);
      this.lastAudio = Date.now();
      this.queue.push(pcm);
    });
    this.ff.stderr!.on('data', (d: Buffer) => {
      const text = d.toString();
      this.stderr = (this.stderr + text).slice(-2000);
      this.decodeErrors += text.split('\n').filter((l) => DECODE_ERROR.test(l)).length;
      if (this.decodeErrors >= DECODE_ERRORS_MAX) this.fail('decode_error', this.detail());
    });
    this.ff.on('error', (err) => this.fail('decode_error', `cannot run ffmpeg: ${err.message}`));
    this.ff.on('exit', (code, signal) => this.fail(this.classify(code), this.detail() || `ffmpeg exited (${code ?? signal})`));
    // Before the first audio, connecting and probing count too: an HLS playlist, its first segment and the MPEG-TS
    // probe take 2–4 s on a loaded machine, so the first window is longer (measured 3.5 s with 10 ffmpegs on 2 cores).
    const firstS = o.stallS + (/\.m3u8(\?|$)/i.test(o.input) ? STARTUP_HLS_S : STARTUP_S);
    this.stallTimer = setInterval(() => {
      const limitS = this.audioMs > 0 ? o.stallS : firstS;
      if (Date.now() - this.lastAudio > limitS * 1000) this.fail('stalled', `no audio for ${limitS} s`);
    }, 250);
    this.stallTimer.unref();
  }

  get pid(): number | undefined {
    return this.ff.pid;
  }

  private detail(): string {
    return this.stderr.trim().split('\n').slice(-3).join('; ').slice(-300);
  }

  private classify(code: number | null): IngestFailure {
    if (HTTP_ERROR.test(this.stderr)) return 'http_error';
    if (this.decodeErrors > 0 && this.audioMs === 0) return 'decode_error';
    // Exit 0 is the upstream closing the stream; so is a non-zero exit after it had played (a truncated last frame).
    if (code === 0 || this.audioMs > 0) return 'ended';
    return 'decode_error';
  }

  private fail(reason: IngestFailure, detail: string): void {
    if (this.stopped) return;
    this.stop();
    this.o.log.warn({ input: redact(this.o.input), reason, detail, audioMs: Math.round(this.audioMs) }, 'upstream failed');
    try {
      this.o.onFailure(reason, detail);
    } catch (err) {
      this.o.log.error({ err }, 'relay failure handler threw');
    }
  }

  /** Kills ffmpeg; no callback follows. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.stallTimer);
    if (this.ff.exitCode === null && this.ff.signalCode === null) this.ff.kill('SIGKILL');
  }

  /** Resolves when ffmpeg has exited (after stop() or a failure). */
  exited(): Promise<void> {
    if (this.ff.exitCode !== null || this.ff.signalCode !== null) return Promise.resolve();
    return new Promise((r) => this.ff.once('exit', () => r()));
  }
}

/** Upstream URLs may carry credentials (http://user:pass@…); logs get the host and path only. */
export const redact = (input: string): string => input.replace(/\/\/[^/@]*@/, '//');
