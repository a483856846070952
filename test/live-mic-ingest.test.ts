import { spawnSync } from 'node:child_process';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ffmpegPath } from '../server/src/content/ffmpeg.ts';
import { startMicIngest, sniffContainer } from '../server/src/live/mic-ingest.ts';
import { PcmQueue, samplesToMs } from '../server/src/live/pcm.ts';
import { findMarkers, markerInputArgs } from './helpers/markers.ts';

const log = pino({ level: 'silent' });
const SECONDS = 4;

/** What MediaRecorder sends: Opus in WebM (Chromium) or Ogg (Firefox, a page per 100 ms timeslice), made by ffmpeg. */
function recording(format: 'webm' | 'ogg'): Buffer {
  const run = spawnSync(ffmpegPath(), ['-v', 'error', ...markerInputArgs({ everyS: 1, durationS: SECONDS }), '-c:a', 'libopus', '-b:a', '32k', ...(format === 'ogg' ? ['-page_duration', '100000'] : []), '-f', format, 'pipe:1'], { maxBuffer: 1 << 26 });
  expect(run.status).toBe(0);
  return run.stdout;
}

/** Feeds the recording in 100 ms pieces at real time; returns the PCM and how far the PCM out lagged the bytes in. */
async function feed(bytes: Buffer) {
  const pcm: Buffer[] = [];
  const queue = new PcmQueue(60_000);
  const push = queue.push.bind(queue);
  queue.push = (b: Buffer) => (pcm.push(b), push(b));
  const failures: string[] = [];
  const mic = startMicIngest({ ffmpeg: ffmpegPath(), log, queue, onFailure: (d) => failures.push(d) });
  const pieces = SECONDS * 10;
  const size = Math.ceil(bytes.length / pieces);
  const t0 = Date.now();
  let firstPcmAt = 0;
  const lags: number[] = [];
  for (let i = 0; i < pieces; i++) {
    mic.write(bytes.subarray(i * size, (i + 1) * size));
    await new Promise((r) => setTimeout(r, 100));
    const outMs = samplesToMs(pcm.reduce((n, b) => n + b.length, 0) / 2);
    if (outMs > 0 && !firstPcmAt) firstPcmAt = Date.now() - t0;
    if (i >= 10) lags.push((i + 1) * 100 - outMs); // media time sent minus media time decoded
  }
  await mic.end();
  lags.sort((a, b) => a - b);
  return { pcm: Buffer.concat(pcm), failures, firstPcmAt, lagMs: lags[Math.floor(lags.length / 2)]! };
}

describe('microphone ingest', () => {
  it('sniffs WebM and Ogg from their first bytes', () => {
    expect(sniffContainer(recording('webm'))).toBe('webm');
    expect(sniffContainer(recording('ogg'))).toBe('ogg');
    expect(sniffContainer(Buffer.from('<html>'))).toBeNull();
  });

  for (const format of ['webm', 'ogg'] as const) {
    it(`decodes ${format} chunks as they arrive, with every marker`, async () => {
      const r = await feed(recording(format));
      console.log(`mic ${format}: first PCM ${r.firstPcmAt} ms after the first chunk, median lag ${Math.round(r.lagMs)} ms behind the bytes fed`);
      expect(r.failures).toEqual([]);
      expect(findMarkers(r.pcm).length).toBe(SECONDS);
      expect(r.pcm.length / 2).toBeGreaterThan(48_000 * (SECONDS - 0.2));
      // Bytes are split evenly, not on frame edges, so up to a piece (100 ms) is always in flight; generous for CI.
      expect(r.lagMs).toBeLessThan(600);
    });
  }

  it('reports input that is neither WebM nor Ogg and starts no decoder', async () => {
    const failures: string[] = [];
    const mic = startMicIngest({ ffmpeg: ffmpegPath(), log, queue: new PcmQueue(1000), onFailure: (d) => failures.push(d) });
    mic.write(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    await mic.end();
    expect(failures).toEqual(['not WebM or Ogg audio']);
  });

  it('reports a stream that turns to garbage', async () => {
    const failures: string[] = [];
    const mic = startMicIngest({ ffmpeg: ffmpegPath(), log, queue: new PcmQueue(1000), onFailure: (d) => failures.push(d) });
    const webm = recording('webm');
    mic.write(webm.subarray(0, 40));
    mic.write(Buffer.alloc(50_000, 0x5a));
    await mic.end();
    expect(failures.length).toBeLessThanOrEqual(1); // at most once, and never a throw
  });
});
