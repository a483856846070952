/**
 * The marker programme live-audio tests send through upstreams, encoders and Icecast: a quiet 220 Hz bed with a loud
 * 2 kHz tone burst of MARKER_MS every `everyS` seconds, starting at t = 0 (so onsets sit at k · everyS exactly).
 * Tests find the bursts again in what comes out, which tells them audio flowed and where it sits on a timeline.
 *
 * Detection is by the energy at the marker frequency, not by plain loudness: the relay's leveller lifts the bed by up
 * to 20 dB, which leaves little level contrast, while a 2 kHz tone stays a 2 kHz tone through MP3, AAC and Opus.
 */
import { spawn } from 'node:child_process';
import { ffmpegPath } from '../../server/src/content/ffmpeg.ts';

export const MARKER_HZ = 2000;
export const BED_HZ = 220;
export const MARKER_MS = 200;
const RATE = 48_000;

/** ffmpeg input arguments for the programme (endless unless durationS); put `-re` before them for real time. */
export function markerInputArgs(o: { everyS?: number; durationS?: number } = {}): string[] {
  const every = o.everyS ?? 2;
  const burst = `if(lt(mod(t\\,${every})\\,${MARKER_MS / 1000})\\,0.5*sin(2*PI*${MARKER_HZ}*t)\\,0)`;
  const d = o.durationS ? `:d=${o.durationS}` : '';
  return ['-f', 'lavfi', '-i', `aevalsrc=exprs='0.05*sin(2*PI*${BED_HZ}*t)+${burst}':s=${RATE}:c=mono${d}`];
}

/** Amplitude of `hz` in pcm[from, from + n) (Goertzel), scaled so a full-scale sine reads 1. */
function toneAmplitude(s: Int16Array, from: number, n: number, hz: number): number {
  const w = (2 * Math.PI * hz) / RATE;
  const c = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  for (let i = from; i < from + n; i++) {
    const s0 = s[i]! / 32768 + c * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const power = s1 * s1 + s2 * s2 - c * s1 * s2;
  return (2 * Math.sqrt(Math.max(power, 0))) / n;
}

function rms(s: Int16Array, from: number, n: number): number {
  let sum = 0;
  for (let i = from; i < from + n; i++) sum += (s[i]! / 32768) ** 2;
  return Math.sqrt(sum / n);
}

const samplesOf = (pcm: Buffer): Int16Array => {
  const copy = Buffer.from(pcm.subarray(0, pcm.length - (pcm.length % 2)));
  return new Int16Array(copy.buffer, copy.byteOffset, copy.length / 2);
};

/**
 * Sample indices of marker onsets in s16le mono 48 kHz PCM. A 10 ms window is a marker when most of its energy is at
 * MARKER_HZ; an onset is three such windows after ≥ 300 ms without one. The onset is then refined to a few samples:
 * over a sliding 2 ms window the tone's amplitude grows linearly from the onset, so it reaches half its steady value
 * 1 ms (48 samples) after it.
 */
export function findMarkers(pcm: Buffer): number[] {
  const s = samplesOf(pcm);
  const W = 480;
  const windows = Math.floor(s.length / W);
  const isMarker: boolean[] = [];
  for (let k = 0; k < windows; k++) {
    const r = rms(s, k * W, W);
    isMarker.push(r > 0.005 && toneAmplitude(s, k * W, W, MARKER_HZ) / (r * Math.SQRT2) > 0.6);
  }
  const onsets: number[] = [];
  let lastMarker = -Infinity;
  for (let k = 0; k + 2 < windows; k++) {
    if (!isMarker[k]) continue;
    const fresh = k - lastMarker > 30;
    lastMarker = k;
    if (!fresh || !isMarker[k + 1] || !isMarker[k + 2]) continue;
    onsets.push(refine(s, k * W));
  }
  return onsets;
}

function refine(s: Int16Array, coarse: number): number {
  const N = 96;
  const steadyAt = Math.min(coarse + 1440, s.length - 480);
  const steady = toneAmplitude(s, steadyAt, 480, MARKER_HZ);
  for (let end = Math.max(N, coarse - 480); end <= coarse + 960 && end <= s.length; end++) {
    if (toneAmplitude(s, end - N, N, MARKER_HZ) >= steady / 2) return end - N / 2;
  }
  return coarse;
}

/** Markers in PCM as milliseconds from its first sample. */
export const markerMs = (pcm: Buffer): number[] => findMarkers(pcm).map((i) => (i * 1000) / RATE);

/**
 * Decodes Ogg/Opus bytes to s16le mono 48 kHz. ffmpeg drops the OpusHead pre-skip, so for a stream that starts at
 * granule 0, sample k of the output is granule k + preSkip (RFC 7845 §4.2); for bytes that join a stream later (an
 * Icecast listener), k counts from the first audio page's start granule + preSkip.
 */
export function decodeOgg(bytes: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const ff = spawn(ffmpegPath(), ['-hide_banner', '-nostdin', '-v', 'error', '-f', 'ogg', '-i', 'pipe:0', '-ac', '1', '-ar', String(RATE), '-f', 's16le', 'pipe:1']);
    const out: Buffer[] = [];
    let err = '';
    ff.stdout.on('data', (d: Buffer) => out.push(d));
    ff.stderr.on('data', (d: Buffer) => (err += d.toString()));
    ff.stdin.on('error', () => undefined);
    ff.on('error', reject);
    ff.on('close', (code) => (code === 0 || out.length ? resolve(Buffer.concat(out)) : reject(new Error(`decodeOgg: ffmpeg ${code}: ${err.trim()}`))));
    ff.stdin.end(bytes);
  });
}
