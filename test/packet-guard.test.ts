import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import mqttPacket from 'mqtt-packet';
import { PacketSizeGuard } from '../server/src/mqtt/packet-guard.ts';

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
