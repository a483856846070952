import { spawnSync } from 'node:child_process';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OggPageReader, STREAM_EPOCH_TAG } from '../schemas/device-protocol/stream.ts';
import { ffmpegPath } from '../server/src/content/ffmpeg.ts';
import { IcecastPush } from '../server/src/live/icecast-push.ts';
import { icecastAvailable, startIcecast, type IcecastServer } from './helpers/icecast.ts';
import { decodeOgg, findMarkers, markerInputArgs } from './helpers/markers.ts';

const log = pino({ level: 'silent' });
const EPOCH = 1_796_000_000_123;

/** A LiveStream stand-in: header pages kept, audio pages handed to subscribers at real time. */
function fakeStream(seconds: number) {
  const ogg = spawnSync(ffmpegPath(), ['-v', 'error', ...markerInputArgs({ everyS: 1, durationS: seconds }), '-c:a', 'libopus', '-b:a', '32k', '-metadata', `${STREAM_EPOCH_TAG}=${EPOCH}`, '-f', 'ogg', '-page_duration', '20000', 'pipe:1'], { maxBuffer: 1 << 26 }).stdout;
  const pages = new OggPageReader().push(ogg);
  const head = pages.slice(0, 2).map((p) => p.bytes);
  const audio = pages.slice(2);
  const sinks = new Set<(p: { bytes: Buffer }) => void>();
  let i = 0;
  const timer = setInterval(() => {
    const p = audio[i++ % audio.length]!;
    for (const s of sinks) s(p);
  }, 20);
  return { headers: () => head, subscribe: (fn: (p: { bytes: Buffer }) => void) => (sinks.add(fn), () => sinks.delete(fn)), close: () => clearInterval(timer) };
}

async function listen(url: string, ms: number): Promise<Buffer> {
  const ctl = new AbortController();
  const res = await fetch(url, { signal: ctl.signal });
  expect(res.status).toBe(200);
  const parts: Buffer[] = [];
  const t = setTimeout(() => ctl.abort(), ms);
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) parts.push(Buffer.from(chunk));
  } catch {
    /* aborted */
  }
  clearTimeout(t);
  return Buffer.concat(parts);
}

describe.skipIf(!icecastAvailable())('pushing a live stream to Icecast (icecast2 not installed: apt-get install icecast2)', () => {
  let ice: IcecastServer;
  beforeAll(async () => (ice = await startIcecast()));
  afterAll(async () => ice?.stop());

  it('serves the pushed stream with its OpusTags epoch, and audio a listener can decode', async () => {
    const stream = fakeStream(4);
    const push = new IcecastPush({ url: `${ice.base}/s1.ogg`, password: ice.sourcePassword, headers: stream.headers, subscribe: stream.subscribe, log });
    try {
      push.start();
      for (let i = 0; i < 100 && !(await ice.mounts()).includes('/s1.ogg'); i++) await new Promise((r) => setTimeout(r, 100));
      const bytes = await listen(`${ice.base}/s1.ogg`, 3000);
      const pages = new OggPageReader().push(bytes);
      expect(pages[0]!.body.toString('latin1', 0, 8)).toBe('OpusHead');
      expect(pages[1]!.body.toString('latin1')).toContain(`${STREAM_EPOCH_TAG}=${EPOCH}`);
      expect(findMarkers(await decodeOgg(bytes)).length).toBeGreaterThanOrEqual(1);
    } finally {
      push.stop();
      stream.close();
    }
  });

  it('reconnects when Icecast refuses it, and gets on once the mount is free', async () => {
    const stream = fakeStream(2);
    const first = new IcecastPush({ url: `${ice.base}/s2.ogg`, password: ice.sourcePassword, headers: stream.headers, subscribe: stream.subscribe, log });
    const second = new IcecastPush({ url: `${ice.base}/s2.ogg`, password: ice.sourcePassword, headers: stream.headers, subscribe: stream.subscribe, log });
    try {
      first.start();
      for (let i = 0; i < 100 && !(await ice.mounts()).includes('/s2.ogg'); i++) await new Promise((r) => setTimeout(r, 100));
      second.start(); // mount in use: refused, retried
      await new Promise((r) => setTimeout(r, 1500));
      expect(second.accepted).toBe(0);
      first.stop();
      for (let i = 0; i < 100 && second.accepted === 0; i++) await new Promise((r) => setTimeout(r, 100));
      expect(second.connects).toBeGreaterThan(1);
      expect(second.accepted).toBe(1);
    } finally {
      first.stop();
      second.stop();
      stream.close();
    }
  });
});
