import { describe, expect, it } from 'vitest';
import { Duplex, PassThrough } from 'node:stream';
import mqttPacket from 'mqtt-packet';
import { PacketSizeGuard, guardedStream } from '../server/src/mqtt/packet-guard.ts';

function run(max: number, chunks: Buffer[]): Promise<{ passed: number; tooLarge: number | null; error: boolean }> {
  return new Promise((resolve) => {
    let tooLarge: number | null = null;
    let passed = 0;
    const g = new PacketSizeGuard(max, (n) => (tooLarge = n));
    g.on('data', (b: Buffer) => (passed += b.length));
    g.on('error', () => resolve({ passed, tooLarge, error: true }));
    g.on('finish', () => resolve({ passed, tooLarge, error: false }));
    const src = new PassThrough();
    src.pipe(g);
    for (const c of chunks) src.write(c);
    src.end();
  });
}

const publish = (size: number) => mqttPacket.generate({ cmd: 'publish', topic: 'a/b', payload: Buffer.alloc(size), qos: 0, retain: false, dup: false });

describe('packet size guard', () => {
  it('passes packets under the limit, split at every byte boundary', async () => {
    const stream = Buffer.concat([publish(10), publish(300), publish(20_000), publish(0)]);
    const bytes = [...stream].map((b) => Buffer.from([b]));
    const r = await run(65_536, bytes);
    expect(r).toEqual({ passed: stream.length, tooLarge: null, error: false });
  });

  it('cuts the stream as soon as a header announces a packet over the limit', async () => {
    const big = publish(70_000);
    const r = await run(65_536, [publish(100), big.subarray(0, 6)]);
    expect(r.error).toBe(true);
    expect(r.tooLarge).toBe(70_000 + 2 + 3);
    expect(r.passed).toBe(publish(100).length);
  });
});

/** A socket stand-in that records each write the kernel would get: one per _write, one per _writev batch. */
class RecordingSocket extends Duplex {
  writes: Buffer[][] = [];
  _read(): void {}
  _write(chunk: Buffer, _e: BufferEncoding, cb: () => void): void {
    this.writes.push([chunk]);
    cb();
  }
  _writev(chunks: { chunk: Buffer }[], cb: () => void): void {
    this.writes.push(chunks.map((c) => c.chunk));
    cb();
  }
}

describe('guarded socket', () => {
  it('hands a packet written under cork to the socket as one write, as a bare socket would get it', async () => {
    const socket = new RecordingSocket();
    const conn = guardedStream(socket, 65_536, () => {});
    const packet = { cmd: 'publish' as const, topic: 'loa/v1/grp/a-xa/play', payload: Buffer.alloc(1024, 1), qos: 1 as const, messageId: 7, retain: false, dup: false };
    // how aedes writes: mqtt-packet corks the stream, writes header, topic, id and payload, uncorks on the next tick
    mqttPacket.writeToStream(packet, conn);
    await new Promise((r) => setImmediate(r));
    expect(socket.writes).toHaveLength(1);
    expect(Buffer.concat(socket.writes[0])).toEqual(mqttPacket.generate(packet));
  });

  it('reads through the guard, and ends when the socket does', async () => {
    const socket = new PassThrough();
    const conn = guardedStream(socket, 65_536, () => {});
    const got: Buffer[] = [];
    conn.on('data', (b: Buffer) => got.push(b));
    const ended = new Promise((r) => conn.on('end', r));
    socket.end(publish(10));
    await ended;
    expect(Buffer.concat(got)).toEqual(publish(10));
  });
});
