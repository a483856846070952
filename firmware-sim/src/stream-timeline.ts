/**
 * From the bytes of one live-stream response to timed pages (protocol v1.2, schemas/device-protocol/stream.ts):
 * Ogg pages (OggPageReader), the OpusHead's pre-skip, the epoch (the `loa-stream-epoch` header, else the
 * LOA_EPOCH_MS OpusTags comment), and for each audio page the server instants its audio spans. No decoding.
 *
 * A page's audio spans [granule of the page before, its own granule) (RFC 7845 §4). When the page before is not
 * the one we read last (the Ogg sequence number jumped: the server skipped ahead, or this is the first audio page of
 * a response), its start is its granule less the samples its packets hold, read from each packet's TOC byte
 * (RFC 6716 §3.1) — the page before's granule would place it too early.
 */
import { OggPageReader, opusPreSkip, stampOf, STREAM_EPOCH_TAG, type OggPage } from '../../schemas/device-protocol/index.ts';

/** An audio page and the server instants its audio starts and ends at (latency included). */
export interface TimedPage {
  page: OggPage;
  startS: number;
  endS: number;
}

/** The bytes are not Ogg/Opus: the device cannot play them (`unsupported_codec`). */
export class UnsupportedCodec extends Error {}

/** The stream is Ogg/Opus but carries no epoch: it cannot be placed in time. */
export class NoEpoch extends Error {}

export class StreamTimeline {
  private readonly reader = new OggPageReader();
  private preSkip: number | null = null;
  private epoch: number | null;
  private headers = 0;
  private prev: { granule: number; sequence: number } | null = null;

  constructor(
    headerEpoch: number | null,
    private readonly latencyMs: number,
  ) {
    this.epoch = headerEpoch;
  }

  /** Pages complete in `chunk` (with what came before), timed. Throws UnsupportedCodec or NoEpoch. */
  push(chunk: Buffer): TimedPage[] {
    let pages: OggPage[];
    try {
      pages = this.reader.push(chunk);
    } catch (err) {
      throw new UnsupportedCodec((err as Error).message);
    }
    const out: TimedPage[] = [];
    for (const p of pages) {
      if (this.headers < 2) {
        this.header(p);
        continue;
      }
      const t = this.timed(p);
      if (t) out.push(t);
    }
    return out;
  }

  private header(p: OggPage): void {
    if (this.headers === 0) {
      if (!p.bos) throw new UnsupportedCodec('stream does not begin with a BOS page');
      try {
        this.preSkip = opusPreSkip(p.body);
      } catch (err) {
        throw new UnsupportedCodec((err as Error).message);
      }
    } else {
      if (p.body.toString('latin1', 0, 8) !== 'OpusTags') throw new UnsupportedCodec('second page is not OpusTags');
      this.epoch ??= epochTag(p.body);
      if (this.epoch === null) throw new NoEpoch(`no ${STREAM_EPOCH_TAG} and no epoch header`);
    }
    this.headers++;
  }

  private timed(p: OggPage): TimedPage | null {
    if (p.granule < 0) return null; // no packet ends here: timed with the page that completes it
    const follows = this.prev !== null && p.sequence === this.prev.sequence + 1;
    const startG = follows ? this.prev!.granule : p.granule - pageSamples(p);
    this.prev = { granule: p.granule, sequence: p.sequence };
    const at = (g: number) => stampOf(this.epoch!, g, this.preSkip!, this.latencyMs);
    return { page: p, startS: at(startG), endS: at(p.granule) };
  }
}

/** The LOA_EPOCH_MS comment of an OpusTags body (RFC 7845 §5.2), or null. */
export function epochTag(body: Buffer): number | null {
  try {
    let o = 8;
    o += 4 + body.readUInt32LE(o); // vendor string
    const n = body.readUInt32LE(o);
    o += 4;
    for (let i = 0; i < n; i++) {
      const len = body.readUInt32LE(o);
      const c = body.toString('utf8', o + 4, o + 4 + len);
      o += 4 + len;
      const eq = c.indexOf('=');
      if (eq > 0 && c.slice(0, eq).toUpperCase() === STREAM_EPOCH_TAG) {
        const v = Number(c.slice(eq + 1));
        return Number.isFinite(v) ? v : null;
      }
    }
  } catch {
    /* truncated comment block: no epoch */
  }
  return null;
}

/** Frame length (ms) of each TOC configuration (RFC 6716 §3.1, table 2). */
const FRAME_MS = [10, 20, 40, 60, 10, 20, 40, 60, 10, 20, 40, 60, 10, 20, 10, 20, 2.5, 5, 10, 20, 2.5, 5, 10, 20, 2.5, 5, 10, 20, 2.5, 5, 10, 20];

/** Samples (48 kHz) of one Opus packet, from its TOC byte and frame count. */
export function packetSamples(pkt: Buffer): number {
  if (pkt.length === 0) return 0;
  const toc = pkt[0]!;
  const code = toc & 3;
  const frames = code === 0 ? 1 : code < 3 ? 2 : pkt.length > 1 ? pkt[1]! & 0x3f : 0;
  return (frames * FRAME_MS[toc >> 3]! * 48_000) / 1000;
}

/** Samples of the packets that begin on this page (a packet continued from the page before is not counted). */
export function pageSamples(p: OggPage): number {
  const segs = p.bytes[26]!;
  const continued = (p.bytes[5]! & 0x01) !== 0;
  let samples = 0;
  let off = 0;
  let start = 0;
  let first = true;
  for (let i = 0; i < segs; i++) {
    const lace = p.bytes[27 + i]!;
    off += lace;
    if (lace < 255) {
      if (!(first && continued)) samples += packetSamples(p.body.subarray(start, off));
      first = false;
      start = off;
    }
  }
  return samples;
}
