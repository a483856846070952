import { EventEmitter } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import '../server/src/http/types.ts';
import { OggPageReader, opusPreSkip, stampOf, STREAM_EPOCH_HEADER, type OggPage } from '../schemas/device-protocol/stream.ts';
import { ffmpegPath, runFfmpeg } from '../server/src/content/ffmpeg.ts';
import { LiveStream, packetsEnding } from '../server/src/live/live-stream.ts';
import { MAX_BACKLOG_BYTES, registerLiveDeviceRoute } from '../server/src/live/live-device.routes.ts';
import { PcmQueue, PCM_RATE } from '../server/src/live/pcm.ts';

const log = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let dir: string;
const streams: LiveStream[] = [];

beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'loa-live-'))));
afterEach(async () => void (await Promise.all(streams.splice(0).map((s) => s.stop().catch(() => null)))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function liveStream(opts: Partial<ConstructorParameters<typeof LiveStream>[0]> = {}): LiveStream {
  const s = new LiveStream({ id: 'r-test', kind: 'relay', now: Date.now, ffmpeg: ffmpegPath(), log, ...opts });
  streams.push(s);
  return s;
}

/** Silence, then a 440 Hz tone from sample `onset` for `length` samples, by absolute sample index (fed from sample 0). */
class ToneFeed extends PcmQueue {
  at = 0;
  constructor(private readonly onset: number, private readonly length: number) {
    super(1000);
  }
  override take(n: number): Buffer {
    const out = Buffer.alloc(n * 2);
    for (let i = 0; i < n; i++, this.at++) {
      const k = this.at - this.onset;
      if (k >= 0 && k < this.length) out.writeInt16LE(Math.round(16000 * Math.sin((2 * Math.PI * 440 * k) / PCM_RATE)), i * 2);
    }
    return out;
  }
}

async function decode(file: string): Promise<Int16Array> {
  const out = `${file}.pcm`;
  const run = await runFfmpeg(['-hide_banner', '-nostdin', '-v', 'error', '-y', '-i', file, '-f', 's16le', '-ac', '1', '-ar', '48000', out]);
  if (run.code !== 0) throw new Error(`not decodable: ${run.stderr}`);
  const b = readFileSync(out);
  return new Int16Array(b.buffer, b.byteOffset, b.length / 2);
}

const pagesOf = (bytes: Buffer): OggPage[] => new OggPageReader().push(bytes);

describe('live stream encoder', () => {
  it('keeps the timeline: a tone fed at sample n is heard where its page granule says (epoch + n / 48 ms)', { timeout: 60_000 }, async () => {
    const onset = Math.round(0.7 * PCM_RATE) + 123;
    const s = liveStream({ recordPath: join(dir, 'tone.ogg') });
    s.feed(new ToneFeed(onset, PCM_RATE / 2));
    await s.start();
    expect(s.epochMs).toBeGreaterThan(0);
    while (s.pagesOut === 0 || s.latencyMs === null || (s['lastGranule'] as number) < onset + PCM_RATE) await sleep(50);
    const rec = (await s.stop())!;
    const pages = pagesOf(readFileSync(rec.path));
    const preSkip = opusPreSkip(pages[0]!.body);
    expect(preSkip).toBe(s.preSkip);
    // ffmpeg took every sample from sample 0: after k packets of 960 the granule is k · 960 (pre-skip added and dropped).
    expect(pages[2]!.granule).toBe(packetsEnding(pages[2]!) * 960);
    const pcm = await decode(rec.path);
    const heard = pcm.findIndex((v) => Math.abs(v) > 4000);
    expect(heard).toBeGreaterThan(0);
    // Decoded sample i (pre-skip dropped) lies in the first page whose packets reach past it; its granule stamps the page end.
    let samples = 0;
    let at: number | null = null;
    for (const p of pages.slice(2)) {
      samples += packetsEnding(p) * 960;
      if (samples - preSkip > heard) {
        at = stampOf(s.epochMs, p.granule, preSkip, 0) - ((samples - preSkip - heard) * 1000) / PCM_RATE;
        break;
      }
    }
    const expected = s.epochMs + (onset * 1000) / PCM_RATE;
    console.log(`tone onset: granule-derived ${(at! - s.epochMs).toFixed(2)} ms, fed at ${(expected - s.epochMs).toFixed(2)} ms`);
    expect(Math.abs(at! - expected)).toBeLessThanOrEqual(20);
  });

  it('sends OpusHead and OpusTags first, with the epoch in LOA_EPOCH_MS, and pages out within the latency target', { timeout: 60_000 }, async () => {
    const s = liveStream();
    await s.start();
    const [head, tags] = s.headers().map((b) => pagesOf(b)[0]!);
    expect(head!.bos).toBe(true);
    expect(head!.body.toString('latin1', 0, 8)).toBe('OpusHead');
    expect(tags!.body.toString('latin1', 0, 8)).toBe('OpusTags');
    expect(tags!.body.toString('latin1')).toContain(`LOA_EPOCH_MS=${s.epochMs}`);
    const lat: number[] = [];
    const off = s.subscribe((p) => lat.push(Date.now() - (s.epochMs + ((p.granule - s.preSkip) * 1000) / PCM_RATE)));
    await sleep(2000);
    off();
    lat.sort((a, b) => a - b);
    const median = lat[lat.length >> 1]!;
    console.log(`encoder latency (page end): median ${median} ms, max ${lat.at(-1)} ms over ${lat.length} pages`);
    expect(lat.length).toBeGreaterThan(20); // ~50 pages in 2 s; a loaded box may deliver fewer yet
    // Target ≤ 150 ms, measured ~60; the bound is loose so a loaded CI box does not fail it, a stuck muxer (1 s) does.
    expect(median).toBeLessThan(400);
  });

  it('writes the whole gap after a stalled event loop, so the timeline stays on wall time', { timeout: 60_000 }, async () => {
    const s = liveStream();
    await s.start();
    const t = Date.now() + 600;
    while (Date.now() < t); // block the loop 600 ms
    await sleep(400);
    const due = ((Date.now() - s.epochMs) * PCM_RATE) / 1000;
    // granule − preSkip is the audio out; it trails what is due by the encoder latency only, not by the stall.
    expect(due - (s['lastGranule'] - s.preSkip)).toBeLessThan(0.4 * PCM_RATE);
  });

  it('records the pages as aired into a valid Ogg/Opus file of the stream\'s duration, renamed into place at the end', { timeout: 60_000 }, async () => {
    const path = join(dir, 'rec.ogg');
    const s = liveStream({ recordPath: path });
    const q = new PcmQueue(5000);
    s.feed(q);
    await s.start();
    q.push(Buffer.alloc(PCM_RATE * 2, 0x11));
    await sleep(1500);
    expect(existsSync(path)).toBe(false);
    const rec = (await s.stop())!;
    const wall = Date.now() - s.epochMs;
    expect(rec.path).toBe(path);
    expect(existsSync(`${path}.part`)).toBe(false);
    expect(rec.bytes).toBe(statSync(path).size);
    const pages = pagesOf(readFileSync(path));
    expect(pages[0]!.body.toString('latin1', 0, 8)).toBe('OpusHead');
    expect(pages.at(-1)!.eos).toBe(true);
    const decodedMs = ((await decode(path)).length * 1000) / PCM_RATE;
    expect(Math.abs(decodedMs - rec.durationMs)).toBeLessThanOrEqual(25);
    expect(rec.durationMs).toBeGreaterThan(1400);
    expect(rec.durationMs).toBeLessThanOrEqual(wall + 25);
    expect(rec.durationMs).toBeGreaterThan(wall - 200);
  });

  it('reports an encoder that dies: error, then ended', { timeout: 60_000 }, async () => {
    const script = join(dir, 'dying-ffmpeg.sh');
    writeFileSync(script, `#!/bin/sh\n"${ffmpegPath()}" "$@" &\nsleep 1\nkill -9 $!\n`);
    chmodSync(script, 0o755);
    const s = liveStream({ ffmpeg: script });
    const errors: Error[] = [];
    s.on('error', (e: Error) => errors.push(e));
    const ended = new Promise((r) => s.once('ended', r));
    await s.start();
    await ended;
    expect(errors[0]?.message).toMatch(/live encoder exited/);
    expect(s.ended).toBe(true);
    await expect(liveStream({ ffmpeg: join(dir, 'no-such-ffmpeg') }).start()).rejects.toThrow(/did not start/);
  });
});

/** An Ogg page of one packet of `size` bytes (CRC left 0: the reader does not check it). */
function fakePage(seq: number, size: number): Buffer {
  const lacing = [...Array(Math.floor(size / 255)).fill(255), size % 255];
  const h = Buffer.alloc(27 + lacing.length);
  h.write('OggS', 0, 'latin1');
  h.writeBigInt64LE(BigInt(seq * 960), 6);
  h.writeUInt32LE(1, 14);
  h.writeUInt32LE(seq, 18);
  h[26] = lacing.length;
  lacing.forEach((v, i) => (h[27 + i] = v));
  return Buffer.concat([h, Buffer.alloc(size, seq & 0xff)]);
}

describe('GET /api/device/live/:streamId', () => {
  let app: FastifyInstance;
  let base: string;
  const registry = new Map<string, LiveStream>();

  beforeAll(async () => {
    app = Fastify({ logger: false });
    // Stands in for deviceAuth: the cluster is whoever the test says.
    app.addHook('preHandler', async (req) => void (req.deviceId = req.headers['x-cluster'] as string | undefined));
    registerLiveDeviceRoute(app, { stream: (id) => registry.get(id), mayListen: async (id, cluster) => cluster === 'cl-a' && registry.has(id) });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(() => app.close());
  afterEach(() => registry.clear());

  const get = (path: string, cluster = 'cl-a') =>
    new Promise<IncomingMessage>((resolve, reject) => request(`${base}${path}`, { headers: { 'x-cluster': cluster } }, resolve).on('error', reject).end());
  const bodyOf = (res: IncomingMessage) => new Promise<Buffer>((r) => { const c: Buffer[] = []; res.on('data', (d) => c.push(d)).on('end', () => r(Buffer.concat(c))); });

  it('answers 404, the same way, for an unknown stream and for a cluster not allowed', async () => {
    const s = liveStream();
    registry.set('r-known', s);
    const expected = { statusCode: 404, error: 'Not Found', message: 'stream not found', field: 'params/streamId' };
    for (const [path, cluster] of [['/live/r-nothing', 'cl-a'], ['/live/r-known', 'cl-other']] as const) {
      const res = await get(path, cluster);
      expect(res.statusCode).toBe(404);
      expect(JSON.parse((await bodyOf(res)).toString())).toEqual(expected);
    }
  });

  it('gives a late joiner the epoch and header pages, then live pages, and ends the response at end of stream', { timeout: 60_000 }, async () => {
    const s = liveStream();
    registry.set('r-live', s);
    await s.start();
    await sleep(800);
    const res = await get('/live/r-live');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('audio/ogg');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['transfer-encoding']).toBe('chunked');
    expect(Number(res.headers[STREAM_EPOCH_HEADER])).toBe(s.epochMs);
    const body = bodyOf(res);
    await sleep(700);
    expect(s.audience).toBe(1);
    await s.stop();
    const bytes = await body; // resolves only if the response ended
    const pages = pagesOf(bytes);
    expect(pages[0]!.body.toString('latin1', 0, 8)).toBe('OpusHead');
    expect(pages[1]!.body.toString('latin1', 0, 8)).toBe('OpusTags');
    // Joined at the live position (~0.8 s in), not replayed from sample 0.
    expect(pages[2]!.granule - s.preSkip).toBeGreaterThan(0.5 * PCM_RATE);
    expect(pages.at(-1)!.eos).toBe(true);
    expect(s.audience).toBe(0);
    const file = join(dir, 'joined.ogg');
    writeFileSync(file, bytes);
    expect((await decode(file)).length).toBeGreaterThan(0.4 * PCM_RATE);
  });

  it('drops whole pages for a listener that does not read, instead of buffering without end', { timeout: 60_000 }, async () => {
    const fake = Object.assign(new EventEmitter(), {
      epochMs: 1, ended: false, droppedPages: 0, sinks: new Set<(p: OggPage) => void>(),
      headers: () => [],
      subscribe(fn: (p: OggPage) => void) { this.sinks.add(fn); return () => void this.sinks.delete(fn); },
    });
    registry.set('r-fake', fake as unknown as LiveStream);
    const sock = connect(Number(new URL(base).port), '127.0.0.1');
    sock.write('GET /live/r-fake HTTP/1.1\r\nhost: x\r\nconnection: close\r\nx-cluster: cl-a\r\n\r\n');
    sock.pause();
    while (fake.sinks.size === 0) await sleep(10);
    const sent = 600;
    for (let i = 0; i < sent; i++) {
      const bytes = fakePage(i, 16_000);
      for (const fn of fake.sinks) fn({ ...pagesOf(bytes)[0]!, eos: false });
      if (i % 20 === 0) await sleep(5); // let the socket fill up
    }
    expect(fake.droppedPages).toBeGreaterThan(0);
    // Now read it all: what arrived is whole pages, the ones not dropped (9.6 MB sent; kernel buffers + 64 KB kept).
    const got: Buffer[] = [];
    const done = new Promise((r) => sock.on('end', r));
    sock.on('data', (d) => got.push(d));
    sock.resume();
    await sleep(200);
    fake.emit('ended');
    await done;
    const raw = Buffer.concat(got).toString('latin1');
    const chunked = Buffer.from(raw.slice(raw.indexOf('\r\n\r\n') + 4), 'latin1');
    const pages = pagesOf(dechunk(chunked));
    expect(pages.length + fake.droppedPages).toBe(sent);
    expect(pages.every((p) => p.body.length === 16_000 && p.body[0] === (p.sequence & 0xff))).toBe(true);
    expect(fake.sinks.size).toBe(0);
    sock.destroy();
    console.log(`slow listener: ${pages.length} pages delivered, ${fake.droppedPages} dropped (bound ${MAX_BACKLOG_BYTES} B)`);
  });
});

function dechunk(b: Buffer): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = b.indexOf('\r\n', at);
    const n = parseInt(b.toString('latin1', at, eol), 16);
    if (!n) break;
    out.push(b.subarray(eol + 2, eol + 2 + n));
    at = eol + 2 + n + 2;
  }
  return Buffer.concat(out);
}
