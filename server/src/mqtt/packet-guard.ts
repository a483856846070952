import { Duplex, Transform, type TransformCallback } from 'node:stream';

/**
 * Reads MQTT fixed headers as bytes arrive and cuts the connection as soon as a packet announces a length above
 * the limit — before the parser buffers it. aedes itself would buffer up to the protocol's 256 MB per packet.
 */
export class PacketSizeGuard extends Transform {
  private need = 0; // body bytes still to skip for the current packet
  private header: number[] = []; // bytes of the fixed header read so far (type byte + length varint)

  constructor(
    private maxBytes: number,
    private onTooLarge: (size: number) => void,
  ) {
    super();
  }

  _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.need > 0) {
        const skip = Math.min(this.need, chunk.length - i);
        this.need -= skip;
        i += skip;
        continue;
      }
      this.header.push(chunk[i++]);
      if (this.header.length === 1) continue;
      const b = this.header[this.header.length - 1];
      if (b & 0x80 && this.header.length < 5) continue;
      let len = 0;
      for (let k = this.header.length - 1; k >= 1; k--) len = len * 128 + (this.header[k] & 0x7f);
      this.header = [];
      if (len + 5 > this.maxBytes) {
        this.onTooLarge(len);
        return cb(new Error(`MQTT packet of ${len} bytes exceeds the limit of ${this.maxBytes}`));
      }
      this.need = len;
    }
    cb(null, chunk);
  }
}

/** Wraps a socket so aedes reads through the guard and writes straight to the socket. */
export function guardedStream(socket: Duplex, maxBytes: number, onTooLarge: (size: number) => void): Duplex {
  const guard = new PacketSizeGuard(maxBytes, onTooLarge);
  socket.pipe(guard);
  const duplex = Duplex.from({ readable: guard, writable: socket });
  guard.on('error', () => socket.destroy());
  socket.on('error', () => duplex.destroy());
  socket.on('close', () => duplex.destroy());
  return duplex;
}
