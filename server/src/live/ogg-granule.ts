/**
 * Rewriting an Ogg page's granule position (RFC 3533 §6), which means recomputing its CRC. The live encoder uses it
 * only if ffmpeg's first granule disagrees with the samples it was given (see LiveStream.align), so that the
 * stream's timeline stays exactly the pacer's.
 */
import type { OggPage } from '../../../schemas/device-protocol/stream.ts';

const TABLE = new Uint32Array(256);
for (let i = 0; i < 256; i++) {
  let r = i << 24;
  for (let k = 0; k < 8; k++) r = r & 0x8000_0000 ? (r << 1) ^ 0x04c1_1db7 : r << 1;
  TABLE[i] = r >>> 0;
}

/** Ogg's CRC-32: polynomial 0x04c11db7, no reflection, initial value and final xor 0. */
export function oggCrc(bytes: Buffer): number {
  let crc = 0;
  for (const b of bytes) crc = ((crc << 8) ^ TABLE[((crc >>> 24) ^ b) & 0xff]!) >>> 0;
  return crc;
}

/** How many packets end on this page: a lacing value below 255 closes a packet. */
export function packetsEnding(page: OggPage): number {
  const segments = page.bytes[26]!;
  let n = 0;
  for (let i = 0; i < segments; i++) if (page.bytes[27 + i]! < 255) n++;
  return n;
}

/** The same page with another granule position and a valid CRC. */
export function withGranule(page: OggPage, granule: number): OggPage {
  const bytes = Buffer.from(page.bytes);
  bytes.writeBigInt64LE(BigInt(granule), 6);
  bytes.writeUInt32LE(0, 22);
  bytes.writeUInt32LE(oggCrc(bytes), 22);
  return { ...page, bytes, granule };
}
