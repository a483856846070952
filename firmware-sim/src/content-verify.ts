/**
 * Verification before use (docs/device-protocol.md §9): a downloaded file is used only if its size and sha256 are
 * the item's. A file that fails is deleted and fetched again from byte 0, never resumed.
 */
import { createHash } from 'node:crypto';
import type { PartialFile } from './content-types.ts';

/** The bytes of a partial file as one Buffer (kept as its only chunk, so a second look costs no copy). */
export function assemble(part: PartialFile | undefined): Buffer {
  const buf = part ? Buffer.concat(part.chunks, part.bytes) : Buffer.alloc(0);
  if (part) {
    part.chunks = [buf];
  }
  return buf;
}

/** Why `buf` is not the file (wrong size or sha256), or null if it is. */
export function verifyContent(buf: Buffer, size: number, sha256: string): string | null {
  const sizeOk = buf.length === size;
  const hashOk = sizeOk && createHash('sha256').update(buf).digest('hex') === sha256;
  if (hashOk) return null;
  return sizeOk ? 'sha256 differs' : `size ${buf.length}, expected ${size}`;
}

/** A copy of `buf` with one byte flipped: the corrupted download of `corruptNextDownload()`. */
export function flipByte(buf: Buffer): Buffer {
  const out = Buffer.from(buf);
  out[out.length >> 1] ^= 0xff;
  return out;
}
