import { rename, rm } from 'node:fs/promises';
import { errorLines, runFfmpeg } from './ffmpeg.ts';
import { tooLong, type Probe } from './probe.ts';
import { TranscodeError } from './transcode-error.ts';

/**
 * The one format every cluster plays: Opus in Ogg, mono, 48 kHz, 32 kb/s.
 * - Mono: a cluster drives 2–4 horn speakers from one amplifier channel; stereo would only cost bytes.
 * - Opus at 32 kb/s: speech is fully intelligible well below that and horn speakers reproduce little above
 *   ~8 kHz, while a 10-minute bulletin stays ~2.4 MB, which a cluster on weak 4G downloads in a minute or two.
 * - 48 kHz: Opus's native rate; anything else is resampled by the decoder anyway.
 */
export const DEVICE_FORMAT = { codec: 'libopus', container: 'ogg', channels: 1, sampleRate: 48_000, bitrate: '32k', mime: 'audio/ogg' } as const;

/**
 * EBU R128 (as for streaming speech): −16 LUFS integrated, −1.5 dBTP true peak, both aimed at in the encoded file.
 * Every item airs at the same level, so a quiet phone recording is as audible as loud music and an operator never
 * rides the volume.
 */
export const TARGET = { i: -16, tp: -1.5 } as const;
/** What every stored file is guaranteed, measured on the encoded file; anything else is refused. */
export const BOUNDS = { lu: 1, tp: -1 } as const;
/** Off the aim by more than this (or above TARGET.tp), the encode is redone once with a computed correction. */
const AIM_LU = 0.5;
/**
 * The limiter's ceiling (sample peaks at 48 kHz) sits this far under TARGET.tp: Opus at 32 kb/s raises true peaks
 * by about 1 dB on speech (more on clipped or square-ish material, which the correction pass then handles), and
 * inter-sample peaks add a little.
 */
const ENCODER_HEADROOM_DB = 1.5;
/** Gated loudness at or below this is digital silence or noise floor: nothing to air. */
const SILENCE_LUFS = -70;

export interface Loudness {
  /** integrated loudness, LUFS */
  i: number;
  /** true peak (or sample peak, when that is what was measured), dBFS */
  peak: number;
}

export interface TranscodeResult {
  durationMs: number;
  integratedLufs: number;
  truePeakDbtp: number;
  inputLufs: number;
}

export interface TranscodeOptions {
  probe: Probe;
  maxDurationMs: number;
  /** fraction done, 0…1 */
  onProgress?: (fraction: number) => void;
}

const num = (v: string) => (/^-?inf$/.test(v) ? (v.startsWith('-') ? -Infinity : Infinity) : Number(v));

/** Parses the summary the ebur128 filter prints when it closes (one decimal, as ffmpeg prints it). */
export function parseEbur128(stderr: string): Loudness | null {
  const at = stderr.lastIndexOf('Summary:');
  const summary = at < 0 ? '' : stderr.slice(at);
  const i = /I:\s+(\S+) LUFS/.exec(summary);
  const peak = /(?:True|Sample) peak:\s+Peak:\s+(\S+) dBFS/.exec(summary);
  if (!i || !peak) return null;
  return { i: num(i[1]), peak: num(peak[1]) };
}

/** Downmix and resample exactly as the encode does, so what is measured is what gets the gain. */
const DEVICE_SIGNAL = `aformat=channel_layouts=mono,aresample=${DEVICE_FORMAT.sampleRate}`;
/** ebur128 logs a line per 100 ms at info level; only its summary is wanted. */
const ebur128 = (peak: 'true' | 'sample') => `ebur128=peak=${peak}:framelog=verbose`;
const dbToLinear = (db: number) => 10 ** (db / 20);
const round2 = (n: number) => Math.round(n * 100) / 100;
const runTimeout = (durationMs: number | null) => 120_000 + (durationMs ?? 30 * 60_000);

/** Gain and limiter ceiling of one encode. */
interface Levels {
  gainDb: number;
  ceilingDb: number;
}

/**
 * Measures, encodes and verifies `src` into `dest` (a temp path; removed on failure), in three decodes:
 * 1. analysis: decode everything (with -xerror, so damage surfaces here), measure loudness and sample peak of the
 *    mono 48 kHz signal;
 * 2. encode: a plain gain to −16 LUFS, then a look-ahead limiter whose ceiling leaves room for the encoder, so the
 *    loudness target holds whatever the peaks (loudnorm instead falls back to its dynamic mode, which misses it);
 * 3. verify: measure the encoded file (what the clusters play). Off the aim, the encode is redone once with a gain
 *    and ceiling computed from that measurement; outside BOUNDS after that, the file is refused.
 */
export async function transcode(src: string, dest: string, opts: TranscodeOptions): Promise<TranscodeResult> {
  const { probe, maxDurationMs } = opts;
  const progress = (from: number, span: number, totalMs: number | null) => (ms: number) => {
    if (totalMs) opts.onProgress?.(from + span * Math.min(1, ms / totalMs));
  };
  try {
    const input = await analyse(src, maxDurationMs, probe, progress(0, 0.3, probe.durationMs));
    const ms = input.durationMs;
    const first: Levels = { gainDb: TARGET.i - input.i, ceilingDb: TARGET.tp - ENCODER_HEADROOM_DB };
    await encode(src, dest, first, ms, progress(0.3, 0.45, ms));
    let out = await measure(dest, ms, progress(0.75, 0.1, ms));
    if (Math.abs(out.i - TARGET.i) > AIM_LU || out.tp > TARGET.tp) {
      const firstOut = out;
      const second = correction(first, input.peak, out);
      const retry = `${dest}.retry`;
      try {
        await encode(src, retry, second, ms, progress(0.85, 0.1, ms));
        const again = await measure(retry, ms);
        if (distance(again) < distance(out)) {
          await rename(retry, dest);
          out = again;
        }
        // Still outside BOUNDS (it would be refused): one more encode, with the gain read off the two tries.
        const third = outOfBounds(out) ? secant(first, firstOut, second, again) : null;
        if (third) {
          await encode(src, retry, third, ms, progress(0.95, 0.04, ms));
          const last = await measure(retry, ms);
          if (distance(last) < distance(out)) {
            await rename(retry, dest);
            out = last;
          }
        }
      } finally {
        await rm(retry, { force: true });
      }
    }
    if (outOfBounds(out)) {
      throw new TranscodeError('loudness', `the audio cannot be brought to ${TARGET.i} LUFS with peaks under ${BOUNDS.tp} dBTP (it comes out at ${out.i.toFixed(1)} LUFS, ${out.tp.toFixed(1)} dBTP)`);
    }
    opts.onProgress?.(1);
    return { durationMs: out.durationMs, integratedLufs: round2(out.i), truePeakDbtp: round2(out.tp), inputLufs: round2(input.i) };
  } catch (err) {
    await rm(dest, { force: true });
    throw err;
  }
}

/** How far an encoded file is from the aim, in dB: loudness either way, true peak only above the aim. */
const distance = (m: { i: number; tp: number }) => Math.max(Math.abs(m.i - TARGET.i), m.tp - TARGET.tp);

const outOfBounds = (m: { i: number; tp: number }) => Math.abs(m.i - TARGET.i) > BOUNDS.lu || m.tp > BOUNDS.tp;
/** The most gain a third encode may add over the second: past that it would only be limiting noise into loudness. */
const MAX_SECANT_STEP_DB = 12;

/**
 * The third encode's levels, for material the limiter works hard on: correction() assumes a dB of gain is a LU of
 * loudness, but once peaks sit at the ceiling a dB of gain gives far less (a browser's take with its automatic gain
 * control, peaks at 0 dBFS and −21 LUFS, got 0.48 LU per dB and came out at −17.1 LUFS). The slope between the two
 * tries gives the gain still missing. Null when the tries say nothing usable (no gain step, or loudness that did not rise).
 */
export function secant(first: Levels, firstOut: { i: number }, second: Levels, secondOut: { i: number; tp: number }): Levels | null {
  const dGain = second.gainDb - first.gainDb;
  const slope = dGain ? (secondOut.i - firstOut.i) / dGain : 0;
  if (!(slope > 0.1)) return null;
  const step = Math.max(-MAX_SECANT_STEP_DB, Math.min(MAX_SECANT_STEP_DB, (TARGET.i - secondOut.i) / slope));
  // Harder limiting makes the encoder overshoot more: whatever the second try already overshot, and a margin.
  return { gainDb: second.gainDb + step, ceilingDb: second.ceilingDb - Math.max(0, secondOut.tp - TARGET.tp) - 0.3 };
}

/**
 * The second encode's levels, computed from the first one's result: the loudness error goes into the gain; the
 * ceiling is set to what the encoder's measured overshoot (encoded true peak over the limiter's output peak, which
 * is the input's sample peak after the gain or the ceiling, whichever is lower) leaves under TARGET.tp. It may rise:
 * peaky speech (espeak's, a phone memo) limited at the first, cautious ceiling loses over a LU of loudness, and more
 * gain into the same ceiling would only limit harder.
 */
export function correction(first: Levels, inputPeakDb: number, encoded: { i: number; tp: number }): Levels {
  const overshoot = Math.max(0, encoded.tp - Math.min(inputPeakDb + first.gainDb, first.ceilingDb));
  const margin = 0.3; // the overshoot is not exactly the same from one encode to the next
  return {
    gainDb: first.gainDb + (TARGET.i - encoded.i),
    ceilingDb: TARGET.tp - overshoot - margin,
  };
}

/** Pass 1: decode everything, refuse damaged, truncated, over-long or silent audio, and measure it. */
async function analyse(src: string, maxDurationMs: number, probe: Probe, onProgress: (ms: number) => void) {
  const run = await runFfmpeg(
    ['-hide_banner', '-nostdin', '-nostats', '-xerror', '-i', src, '-map', '0:a:0', '-vn', '-sn', '-dn',
      // Decode a little past the limit only: enough to prove the file too long without decoding hours of it.
      '-t', String((maxDurationMs + 1000) / 1000),
      '-af', `${DEVICE_SIGNAL},${ebur128('sample')}`,
      '-f', 'null', '-', '-progress', 'pipe:1'],
    { onProgress, timeoutMs: runTimeout(probe.durationMs) },
  );
  if (run.code !== 0) throw new TranscodeError('damaged', `the file is damaged or truncated: ${errorLines(run.stderr) || `ffmpeg exit ${run.code ?? run.signal}`}`);
  const decodedMs = run.outTimeMs ?? 0;
  if (decodedMs > maxDurationMs) throw tooLong(decodedMs, maxDurationMs);
  // A cut-off download keeps its header: the container still declares the full length, but far less decodes.
  // (Not when ffmpeg only estimated the length from the bitrate: a VBR file would be refused for nothing.)
  const short = probe.durationMs !== null && !probe.durationEstimated && decodedMs < probe.durationMs - Math.max(500, probe.durationMs * 0.05);
  if (short || /filesize and duration do not match/.test(run.stderr)) {
    throw new TranscodeError('truncated', `the file is truncated: it declares ${fmtS(probe.durationMs)} but only ${fmtS(decodedMs)} decode`);
  }
  const m = parseEbur128(run.stderr);
  if (!m) throw new Error('ffmpeg printed no loudness measurement: ' + run.stderr.slice(-500));
  if (!(m.i > SILENCE_LUFS)) throw new TranscodeError('silent', 'the file has no audible sound (silent, or shorter than half a second)');
  return { ...m, durationMs: decodedMs };
}

const fmtS = (ms: number | null) => (ms === null ? '?' : `${(ms / 1000).toFixed(1)} s`);

/** Pass 2: gain, limiter, Opus. */
async function encode(src: string, dest: string, levels: Levels, durationMs: number, onProgress: (ms: number) => void): Promise<void> {
  // level=0: alimiter would otherwise scale its output back up to full scale. Attack 5 ms is its look-ahead.
  const limit = Math.min(1, Math.max(0.0625, dbToLinear(levels.ceilingDb))).toFixed(5);
  const enc = await runFfmpeg(
    ['-hide_banner', '-nostdin', '-nostats', '-y', '-i', src, '-map', '0:a:0', '-vn', '-sn', '-dn', '-map_metadata', '-1',
      '-af', `${DEVICE_SIGNAL},volume=${levels.gainDb.toFixed(2)}dB,alimiter=limit=${limit}:attack=5:release=50:level=0`,
      '-ac', '1', '-ar', String(DEVICE_FORMAT.sampleRate), '-c:a', DEVICE_FORMAT.codec, '-b:a', DEVICE_FORMAT.bitrate,
      // bitexact: no random Ogg serial number or encoder tag, so the same input always gives the same bytes (and hash).
      '-fflags', '+bitexact', '-flags:a', '+bitexact', '-f', DEVICE_FORMAT.container, dest, '-progress', 'pipe:1'],
    { onProgress, timeoutMs: runTimeout(durationMs) },
  );
  if (enc.code !== 0) throw new Error(`transcoding failed: ${errorLines(enc.stderr) || `ffmpeg exit ${enc.code ?? enc.signal}`}`);
}

/** Integrated loudness, true peak (EBU R128 / ITU-R BS.1770, as `ebur128=peak=true` reads them) and decoded duration of a file. */
export async function measure(file: string, durationMs: number | null = null, onProgress?: (ms: number) => void): Promise<{ i: number; tp: number; durationMs: number }> {
  const run = await runFfmpeg(
    ['-hide_banner', '-nostdin', '-nostats', '-i', file, '-map', '0:a:0', '-af', ebur128('true'), '-f', 'null', '-', '-progress', 'pipe:1'],
    { onProgress, timeoutMs: runTimeout(durationMs) },
  );
  const m = run.code === 0 ? parseEbur128(run.stderr) : null;
  if (!m) throw new Error(`cannot measure ${file}: ${errorLines(run.stderr) || `ffmpeg exit ${run.code ?? run.signal}`}`);
  return { i: m.i, tp: m.peak, durationMs: run.outTimeMs ?? 0 };
}
