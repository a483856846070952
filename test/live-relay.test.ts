import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StreamSwitch } from '../schemas/api/live.ts';
import { ffmpegPath } from '../server/src/content/ffmpeg.ts';
import { RelayChain } from '../server/src/live/relay-chain.ts';
import * as bad from './helpers/bad-upstreams.ts';
import { startHls } from './helpers/hls.ts';
import { feedIcecast, icecastAvailable, startIcecast, type IcecastServer } from './helpers/icecast.ts';
import { findMarkers } from './helpers/markers.ts';

const log = pino({ level: 'silent' });
const STALL_S = 3;
const RETRY_S = 5;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const uncaught: unknown[] = [];
const onUncaught = (err: unknown) => uncaught.push(err);
const chains = new Set<RelayChain>();
const closers: (() => Promise<unknown>)[] = [];
let dir: string;
let fillerPath: string;

/** A chain whose queue also records every PCM chunk pushed (what the stream would have drained). */
function chain(urls: string[], filler: string | null = null) {
  const c = new RelayChain({ urls, fillerPath: filler, stallS: STALL_S, retryS: RETRY_S, now: Date.now, ffmpeg: ffmpegPath(), log });
  const pcm: Buffer[] = [];
  const push = c.queue.push.bind(c.queue);
  c.queue.push = (b: Buffer) => (pcm.push(b), push(b));
  const switches: StreamSwitch[] = [];
  c.on('switch', (sw: StreamSwitch) => switches.push(sw));
  chains.add(c);
  const waitFor = async (pred: (sw: StreamSwitch) => boolean, ms: number) => {
    const t0 = Date.now();
    while (!switches.some(pred)) {
      if (Date.now() - t0 > ms) throw new Error(`no such switch within ${ms} ms; saw ${JSON.stringify(switches)}`);
      await sleep(100);
    }
    return { sw: switches.find(pred)!, afterMs: Date.now() - t0 };
  };
  /** PCM pushed since `from` (an index into the recorded chunks) */
  const audio = (from = 0) => Buffer.concat(pcm.slice(from));
  return { c, switches, waitFor, audio, mark: () => pcm.length };
}

/** ffmpeg processes whose parent is this test process. */
const ffmpegChildren = (): string[] =>
  execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' }).split('\n').filter((l) => l.includes('ffmpeg') && l.includes('s16le'));

beforeAll(() => {
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUncaught);
  dir = mkdtempSync(join(tmpdir(), 'loa-relay-'));
  fillerPath = join(dir, 'filler.mp3');
  writeFileSync(fillerPath, bad.markerMp3(3));
});

afterAll(async () => {
  await Promise.all([...chains].map((c) => c.stop()));
  await Promise.all(closers.map((c) => c().catch(() => undefined)));
  process.off('uncaughtException', onUncaught);
  process.off('unhandledRejection', onUncaught);
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!icecastAvailable()).concurrent('relaying upstream radio (icecast2 not installed: apt-get install icecast2)', () => {
  let ice: IcecastServer;
  beforeAll(async () => {
    ice = await startIcecast();
    closers.push(() => ice.stop());
  });

  for (const codec of ['mp3', 'ogg', 'aac'] as const) {
    it(`relays an Icecast ${codec} mount, markers and all`, async () => {
      const feed = await feedIcecast(ice, `/vov-${codec}`, { codec, markerEveryS: 1 });
      closers.push(feed.kill);
      const r = chain([`${ice.base}/vov-${codec}`]);
      r.c.start();
      await sleep(6000);
      expect(r.c.status().input).toBe('primary');
      expect(findMarkers(r.audio()).length).toBeGreaterThanOrEqual(3);
      await r.c.stop();
    });
  }
});

describe.concurrent('relay failover', () => {
  it('relays a live HLS playlist, markers and all', async () => {
    const hls = await startHls({ markerEveryS: 1 });
    closers.push(hls.stop);
    const r = chain([hls.url]);
    r.c.start();
    await sleep(8000);
    expect(r.c.status()).toMatchObject({ input: 'primary', backup: null });
    expect(findMarkers(r.audio()).length).toBeGreaterThanOrEqual(3);
    await r.c.stop();
  });

  it('fails over when a live HLS playlist stops advancing, and the stalled reader is let go', async () => {
    const hls = await startHls({ markerEveryS: 1 });
    const backup = await bad.controllable({ markerEveryS: 1 });
    closers.push(hls.stop, backup.close);
    const r = chain([hls.url, backup.url]);
    r.c.start();
    await sleep(4000);
    expect(r.c.status().input).toBe('primary');
    // The playlist is still served, with the same segments: ffmpeg's HLS reader polls it and gets no new audio.
    const frozeAt = Date.now();
    await hls.freeze();
    // What the reader had fetched still plays (up to the 3 segments of the live edge), then the stall counts.
    const { sw } = await r.waitFor((s) => s.to === 'backup 1', (STALL_S + 12) * 1000);
    console.log(`HLS frozen: on backup 1 ${Date.now() - frozeAt} ms later (${sw.reason})`);
    expect(sw).toMatchObject({ from: 'primary', to: 'backup 1' });
    expect(['stalled', 'ended']).toContain(sw.reason);
    const from = r.mark();
    await sleep(3000);
    expect(findMarkers(r.audio(from)).length).toBeGreaterThanOrEqual(1);
    await r.c.stop();
  });

  const faults = {
    'is killed': { make: async () => bad.controllable(), reason: 'ended', after: async (u: bad.Upstream) => (u as bad.Controllable).kill() },
    stalls: { make: async () => bad.stalling(2), reason: 'stalled' },
    'answers 404': { make: bad.notFound, reason: 'http_error' },
    'serves garbage': { make: bad.garbage, reason: 'decode_error' },
  } as const;
  for (const [what, f] of Object.entries(faults)) {
    it(`fails over to the backup when the primary ${what}`, async () => {
      const primary = await f.make();
      const backup = await bad.controllable({ markerEveryS: 1 });
      closers.push(primary.close, backup.close);
      const r = chain([primary.url, backup.url]);
      r.c.start();
      if ('after' in f) {
        await sleep(2500);
        await f.after(primary);
      }
      const { sw, afterMs } = await r.waitFor((s) => s.to === 'backup 1', (STALL_S + 8) * 1000);
      console.log(`primary ${what}: on backup 1 after ${afterMs} ms (${sw.reason})`);
      expect(sw).toMatchObject({ from: 'primary', to: 'backup 1', reason: f.reason });
      const from = r.mark();
      await sleep(3000);
      expect(r.c.status()).toMatchObject({ input: 'backup', backup: 1 });
      expect(findMarkers(r.audio(from)).length).toBeGreaterThanOrEqual(1);
      await r.c.stop();
    });
  }

  it('plays the filler when every upstream has failed, and goes back to the primary when it recovers', async () => {
    const primary = await bad.controllable({ markerEveryS: 1 });
    await primary.kill();
    const backup = await bad.notFound();
    closers.push(primary.close, backup.close);
    const r = chain([primary.url, backup.url], fillerPath);
    r.c.start();
    await r.waitFor((s) => s.to === 'filler', 8000);
    expect(r.switches.map((s) => `${s.from}>${s.to}:${s.reason}`)).toEqual(['silence>primary:started', 'primary>backup 1:http_error', 'backup 1>filler:http_error']);
    const from = r.mark();
    await sleep(4000); // longer than the 3 s filler: it loops
    expect(findMarkers(r.audio(from)).length).toBeGreaterThanOrEqual(2);
    await primary.restart();
    const { sw, afterMs } = await r.waitFor((s) => s.reason === 'recovered', (RETRY_S + 8) * 1000);
    console.log(`primary back: recovered after ${afterMs} ms`);
    expect(sw).toMatchObject({ from: 'filler', to: 'primary' });
    expect(r.c.status().input).toBe('primary');
    await r.c.stop();
  });

  it('goes to silence with no filler, and from a backup back to the primary', async () => {
    const primary = await bad.controllable();
    const backup = await bad.controllable();
    closers.push(primary.close, backup.close);
    const r = chain([primary.url, backup.url]);
    r.c.start();
    await sleep(1500);
    await primary.kill();
    await r.waitFor((s) => s.to === 'backup 1', 8000);
    await backup.kill();
    await r.waitFor((s) => s.to === 'silence', 8000);
    expect(r.c.status()).toMatchObject({ input: 'silence', backup: null });
    await backup.restart();
    await r.waitFor((s) => s.to === 'backup 1' && s.reason === 'recovered', (RETRY_S + 8) * 1000);
    await primary.restart();
    await r.waitFor((s) => s.from === 'backup 1' && s.to === 'primary' && s.reason === 'recovered', (RETRY_S + 8) * 1000);
    await r.c.stop();
  });
});

describe('relay chain hygiene', () => {
  it('leaves no ffmpeg behind after stop(), and nothing went uncaught', async () => {
    await Promise.all([...chains].map((c) => c.stop()));
    await sleep(200);
    expect(ffmpegChildren()).toEqual([]);
    expect(uncaught).toEqual([]);
  });
});
