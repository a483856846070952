/**
 * Live audio (protocol v1.2): how a stream play item names its stream, and how a device turns a point of the stream
 * into the server instant it must be heard at. The framing is plain Ogg/Opus (RFC 7845) over chunked HTTP; the
 * timeline is the stream's own sample count, anchored by one server time, so every cluster that plays sample n at
 * epoch + n / 48 kHz + latency is in step with every other (as Snapcast does), whenever it joined.
 */
import { Type, type Static } from '@sinclair/typebox';

/** Opus always counts granules at 48 kHz, whatever the input rate. */
export const OPUS_RATE = 48_000;

/** HTTP response header of a live stream: server time (ms since epoch, may be fractional) of sample 0 of the stream. */
export const STREAM_EPOCH_HEADER = 'loa-stream-epoch';
/** The same anchor inside the stream, as an OpusTags comment, for players that only see the bytes. */
export const STREAM_EPOCH_TAG = 'LOA_EPOCH_MS';

export const STREAM_CODECS = ['opus'] as const;

export const StreamSpecSchema = Type.Object(
  {
    url: Type.String({
      minLength: 1,
      maxLength: 500,
      description: 'absolute URL, or a path on the server\'s HTTP base URL (the one content is fetched from); fetched with the device\'s HTTP Basic credentials',
    }),
    codec: Type.Union(STREAM_CODECS.map((c) => Type.Literal(c)), { description: 'opus: Ogg/Opus, mono, 48 kHz granules' }),
    latencyMs: Type.Integer({
      minimum: 200,
      maximum: 10_000,
      description: 'fixed delay: the sample stamped server time t is played at t + latencyMs on every cluster, so the jitter buffer holds up to this much',
    }),
    durationMs: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], {
      description: 'how long the airing lasts from startAt; null = open-ended, until the stream ends, the broadcast is cancelled, or expiresAt',
    }),
  },
  { $id: 'StreamSpec' },
);
export type StreamSpec = Static<typeof StreamSpecSchema>;

/** Device features a v1.2 birth may declare; a cluster that declares none is sent no stream items. */
export const DEVICE_FEATURES = ['stream'] as const;
export type DeviceFeature = (typeof DEVICE_FEATURES)[number];

/** Why a stream airing failed or was reported on, beyond the file reasons. */
export const STREAM_REASONS = {
  unsupported_stream: 'the cluster does not declare the `stream` feature (protocol 1.1 or older): it cannot air live audio',
  unsupported_codec: 'the device cannot decode the codec of the stream',
  stream_unavailable: 'the stream URL answered an error or could not be reached for the whole sync window',
  stream_ended: 'the stream ended before the airing was over',
} as const;

/**
 * The server instant at which the audio that ends at `granule` must be heard: epoch + (granule − preSkip) / 48 kHz
 * + latency. `granule` is an Ogg page's granule position (the sample count at the end of the page's last packet).
 */
export function stampOf(epochMs: number, granule: number, preSkip: number, latencyMs: number): number {
  return epochMs + ((granule - preSkip) * 1000) / OPUS_RATE + latencyMs;
}

/** One Ogg page as read off the wire (RFC 3533 §6). */
export interface OggPage {
  /** the whole page, header included, as it travels */
  bytes: Buffer;
  /** beginning of stream (the OpusHead page) */
  bos: boolean;
  /** end of stream: nothing follows */
  eos: boolean;
  /** −1 when no packet ends on this page */
  granule: number;
  serial: number;
  sequence: number;
  /** the packets' bytes, laced together (header pages: OpusHead, OpusTags) */
  body: Buffer;
}

/**
 * Splits a byte stream into Ogg pages, however the bytes were chunked. Throws on bytes that are not Ogg (a
 * device reports `unsupported_codec`, a server refuses the input).
 */
export class OggPageReader {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): OggPage[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const pages: OggPage[] = [];
    for (;;) {
      if (this.buf.length < 27) break;
      if (this.buf.toString('latin1', 0, 4) !== 'OggS') throw new Error('not an Ogg stream: page does not start with OggS');
      const segments = this.buf[26]!;
      if (this.buf.length < 27 + segments) break;
      let bodyLength = 0;
      for (let i = 0; i < segments; i++) bodyLength += this.buf[27 + i]!;
      const total = 27 + segments + bodyLength;
      if (this.buf.length < total) break;
      const bytes = this.buf.subarray(0, total);
      const flags = bytes[5]!;
      pages.push({
        bytes: Buffer.from(bytes),
        bos: (flags & 0x02) !== 0,
        eos: (flags & 0x04) !== 0,
        granule: Number(bytes.readBigInt64LE(6)),
        serial: bytes.readUInt32LE(14),
        sequence: bytes.readUInt32LE(18),
        body: Buffer.from(bytes.subarray(27 + segments)),
      });
      this.buf = this.buf.subarray(total);
    }
    return pages;
  }
}

/** OpusHead (RFC 7845 §5.1): the samples the decoder drops at the start, needed to map granules to time. */
export function opusPreSkip(head: Buffer): number {
  if (head.toString('latin1', 0, 8) !== 'OpusHead') throw new Error('first page is not OpusHead');
  return head.readUInt16LE(10);
}
