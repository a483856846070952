import { rename, rm } from 'node:fs/promises';
import { AppError } from '../shared/errors.ts';
import { errorLines, runFfmpeg } from './ffmpeg.ts';
import { tooLong, type Probe } from './probe.ts';

/**
 * The one format every cluster plays: Opus in Ogg, mono, 48 kHz, 32 kb/s.
 * - Mono: a cluster drives 2–4 horn speakers from one amplifier channel; stereo would only cost bytes.
 * - Opus at 32 kb/s: speech is fully intelligible well below that and horn speakers reproduce little above
 *   ~8 kHz, while a 10-minute bulletin stays ~2.4 MB, which a cluster on weak 4G downloads in a minute or two.
 * - 48 kHz: Opus's native rate; anything else is resampled by the decoder anyway.
 */
export const DEVICE_FORMAT = { codec: 'libopus', container: 'ogg', channels: 1, sampleRate: 48_000, bitrate: '32k', mime: 'audio/ogg' } as const;

/**
 * EBU R128 (as for streaming speech): −16 LUFS integrated, −1.5 dBTP true peak, LRA 11. Every item airs at the same
 * level, so a quiet phone recording is as audible as loud music and an operator never rides the volume.
 */
export const TARGET = { i: -16, tp: -1.5, lra: 11 } as const;
/** Opus changes loudness slightly (noisy material reads up to ~2 LU quieter once encoded); beyond this we correct. */
const TOLERANCE_LU = 0.5;
/** Gated loudness below this is digital silence or noise floor: nothing to air. */
const SILENCE_LUFS = -70;

export interface LoudnessStats {
  i: number;
  tp: number;
  lra: number;
  thresh: number;
  offset: number;
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

const FIELD = 'body/file';
const MONO = 'aformat=channel_layouts=mono';
const num = (v: unknown) => (v === '-inf' ? -Infinity : v === 'inf' ? Infinity : Number(v));

/** Parses loudnorm's print_format=json summary (the last JSON object in the log). */
export function parseLoudnorm(stderr: string): { input: LoudnessStats; normalizationType?: string } | null {
  const at = stderr.lastIndexOf('[Parsed_loudnorm');
  const open = stderr.indexOf('{', at < 0 ? 0 : at);
  const close = stderr.indexOf('}', open);
  if (open < 0 || close < 0) return null;
  const j = JSON.parse(stderr.slice(open, close + 1)) as Record<string, string>;
  return {
    input: { i: num(j.input_i), tp: num(j.input_tp), lra: num(j.input_lra), thresh: num(j.input_thresh), offset: num(j.target_offset) },
    normalizationType: j.normalization_type,
  };
}

/**
 * Measures, encodes and verifies `src` into `dest` (a temp path; removed on failure). Two-pass loudnorm: pass 1
 * decodes the whole file (with -xerror, so damage surfaces here) and measures it; pass 2 applies the measured values
 * with linear=true, a plain gain that keeps the dynamics whenever the true-peak limit allows (loudnorm falls back to
 * its dynamic mode otherwise). The encoded file is then measured again, and re-encoded once with a corrected target
 * if Opus moved it off target.
 */
export async function transcode(src: string, dest: string, opts: TranscodeOptions): Promise<TranscodeResult> {
  const { probe, maxDurationMs } = opts;
  const progress = (from: number, span: number, totalMs: number | null) => (ms: number) => {
    if (totalMs) opts.onProgress?.(from + span * Math.min(1, ms / totalMs));
  };
  try {
    const input = await analyse(src, maxDurationMs, probe, progress(0, 0.4, probe.durationMs));
    let out = await encodeAndMeasure(src, dest, input.stats, TARGET.i, input.durationMs, progress(0.4, 0.6, input.durationMs));
    const miss = TARGET.i - out.i;
    if (Math.abs(miss) > TOLERANCE_LU) {
      const retry = `${dest}.retry`;
      try {
        const second = await encodeAndMeasure(src, retry, input.stats, TARGET.i + miss, input.durationMs);
        if (Math.abs(TARGET.i - second.i) < Math.abs(miss)) {
          await rm(dest, { force: true });
          await rename(retry, dest);
          out = second;
        }
      } finally {
        await rm(retry, { force: true });
      }
    }
    opts.onProgress?.(1);
    return { durationMs: out.durationMs, integratedLufs: round2(out.i), truePeakDbtp: round2(out.tp), inputLufs: round2(input.stats.i) };
  } catch (err) {
    await rm(dest, { force: true });
    throw err;
  }
}

const round2 = (n: number) => Math.round(n * 100) / 100;
const runTimeout = (durationMs: number | null) => 120_000 + (durationMs ?? 30 * 60_000);

/** Pass 1: decode everything, refuse damaged, truncated, over-long or silent audio, and measure loudness. */
async function analyse(src: string, maxDurationMs: number, probe: Probe, onProgress: (ms: number) => void) {
  const run = await runFfmpeg(
    ['-hide_banner', '-nostdin', '-nostats', '-xerror', '-i', src, '-map', '0:a:0', '-vn', '-sn', '-dn',
      // Decode a little past the limit only: enough to prove the file too long without decoding hours of it.
      '-t', String((maxDurationMs + 1000) / 1000),
      '-af', `${MONO},loudnorm=I=${TARGET.i}:TP=${TARGET.tp}:LRA=${TARGET.lra}:print_format=json`,
      '-f', 'null', '-', '-progress', 'pipe:1'],
    { onProgress, timeoutMs: runTimeout(probe.durationMs) },
  );
  if (run.code !== 0) throw new AppError(422, `the file is damaged or truncated: ${errorLines(run.stderr) || `ffmpeg exit ${run.code ?? run.signal}`}`, FIELD);
  const decodedMs = run.outTimeMs ?? 0;
  if (decodedMs > maxDurationMs) throw tooLong(decodedMs, maxDurationMs);
  // A cut-off download keeps its header: the container still declares the full length, but far less decodes.
  // (Not when ffmpeg only estimated the length from the bitrate: a VBR file would be refused for nothing.)
  const short = probe.durationMs !== null && !probe.durationEstimated && decodedMs < probe.durationMs - Math.max(500, probe.durationMs * 0.05);
  if (short || /filesize and duration do not match/.test(run.stderr)) {
    throw new AppError(422, `the file is truncated: it declares ${fmtS(probe.durationMs)} but only ${fmtS(decodedMs)} decode`, FIELD);
  }
  const stats = parseLoudnorm(run.stderr)?.input;
  if (!stats) throw new Error('ffmpeg printed no loudness measurement: ' + run.stderr.slice(-500));
  if (!(stats.i > SILENCE_LUFS)) throw new AppError(422, 'the file has no audible sound (silent, or shorter than half a second)', FIELD);
  return { stats, durationMs: decodedMs };
}

const fmtS = (ms: number | null) => (ms === null ? '?' : `${(ms / 1000).toFixed(1)} s`);

/** Pass 2 (encode with the measured values) followed by a measurement of the encoded file. */
async function encodeAndMeasure(src: string, dest: string, m: LoudnessStats, targetI: number, durationMs: number, onProgress?: (ms: number) => void) {
  // loudnorm treats measured_LRA=0 as "not measured" and then refuses linear mode; a steady signal really has LRA 0.
  const measured = `measured_I=${m.i}:measured_TP=${m.tp}:measured_LRA=${Math.max(m.lra, 0.01)}:measured_thresh=${m.thresh}:offset=${m.offset}`;
  const enc = await runFfmpeg(
    ['-hide_banner', '-nostdin', '-nostats', '-y', '-i', src, '-map', '0:a:0', '-vn', '-sn', '-dn', '-map_metadata', '-1',
      '-af', `${MONO},loudnorm=I=${targetI.toFixed(2)}:TP=${TARGET.tp}:LRA=${TARGET.lra}:${measured}:linear=true:print_format=none,aresample=${DEVICE_FORMAT.sampleRate}`,
      '-ac', '1', '-ar', String(DEVICE_FORMAT.sampleRate), '-c:a', DEVICE_FORMAT.codec, '-b:a', DEVICE_FORMAT.bitrate,
      // bitexact: no random Ogg serial number or encoder tag, so the same input always gives the same bytes (and hash).
      '-fflags', '+bitexact', '-flags:a', '+bitexact', '-f', DEVICE_FORMAT.container, dest, '-progress', 'pipe:1'],
    { onProgress: (ms) => onProgress?.(ms * 0.85), timeoutMs: runTimeout(durationMs) },
  );
  if (enc.code !== 0) throw new Error(`transcoding failed: ${errorLines(enc.stderr) || `ffmpeg exit ${enc.code ?? enc.signal}`}`);
  const out = await measure(dest, durationMs);
  onProgress?.(durationMs);
  return out;
}

/** Integrated loudness, true peak and decoded duration of a file. */
export async function measure(file: string, durationMs: number | null = null): Promise<{ i: number; tp: number; durationMs: number }> {
  const run = await runFfmpeg(
    ['-hide_banner', '-nostdin', '-nostats', '-i', file, '-af', `loudnorm=I=${TARGET.i}:TP=${TARGET.tp}:LRA=${TARGET.lra}:print_format=json`, '-f', 'null', '-', '-progress', 'pipe:1'],
    { timeoutMs: runTimeout(durationMs) },
  );
  const stats = run.code === 0 ? parseLoudnorm(run.stderr)?.input : undefined;
  if (!stats) throw new Error(`cannot measure ${file}: ${errorLines(run.stderr) || `ffmpeg exit ${run.code ?? run.signal}`}`);
  return { i: stats.i, tp: stats.tp, durationMs: run.outTimeMs ?? 0 };
}
