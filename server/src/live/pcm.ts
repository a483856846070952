/**
 * The one audio format inside the server's live path: signed 16-bit little-endian, mono, 48 kHz (Opus' own rate, so
 * a sample index is a granule). Ingests (upstream relays, the microphone) push it, the stream's pacer drains it.
 */
export const PCM_RATE = 48_000;
export const BYTES_PER_SAMPLE = 2;
export const samplesToMs = (n: number): number => (n * 1000) / PCM_RATE;
export const msToSamples = (ms: number): number => Math.round((ms * PCM_RATE) / 1000);

/**
 * A bounded queue between an ingest that delivers in bursts (an Icecast server's burst on connect, HLS segments) and
 * a pacer that takes exactly real time. Beyond `maxMs` the oldest audio is dropped: a relay joins the live position
 * instead of falling ever further behind, and the glass-to-speaker delay stays bounded.
 */
export class PcmQueue {
  private chunks: Buffer[] = [];
  private bytes = 0;
  /** When audio last arrived (clock ms), null before any. */
  lastPushAt: number | null = null;
  /** Samples dropped to stay within maxMs, and samples of silence padded because the queue ran dry. */
  dropped = 0;
  padded = 0;

  constructor(
    private readonly maxMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get bufferedMs(): number {
    return samplesToMs(this.bytes / BYTES_PER_SAMPLE);
  }

  push(pcm: Buffer): void {
    if (pcm.length === 0) return;
    // A chunk split mid-sample would shift every later sample by one byte: keep whole samples only.
    const usable = pcm.length - (pcm.length % BYTES_PER_SAMPLE);
    if (usable === 0) return;
    this.chunks.push(usable === pcm.length ? pcm : pcm.subarray(0, usable));
    this.bytes += usable;
    this.lastPushAt = this.now();
    const max = msToSamples(this.maxMs) * BYTES_PER_SAMPLE;
    if (this.bytes > max) this.discard(this.bytes - max);
  }

  /** Exactly `samples` samples: what is queued, then silence (counted in `padded`). */
  take(samples: number): Buffer {
    const want = samples * BYTES_PER_SAMPLE;
    const out = Buffer.alloc(want);
    let at = 0;
    while (at < want && this.chunks.length) {
      const c = this.chunks[0]!;
      const n = Math.min(c.length, want - at);
      c.copy(out, at, 0, n);
      at += n;
      if (n === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(n);
      this.bytes -= n;
    }
    if (at < want) this.padded += (want - at) / BYTES_PER_SAMPLE;
    return out;
  }

  clear(): void {
    this.chunks = [];
    this.bytes = 0;
  }

  private discard(n: number): void {
    this.dropped += n / BYTES_PER_SAMPLE;
    while (n > 0 && this.chunks.length) {
      const c = this.chunks[0]!;
      if (c.length <= n) {
        this.chunks.shift();
        this.bytes -= c.length;
        n -= c.length;
      } else {
        this.chunks[0] = c.subarray(n);
        this.bytes -= n;
        n = 0;
      }
    }
  }
}
