import { AppError } from '../shared/errors.ts';
import { errorLines, runFfmpeg } from './ffmpeg.ts';
import { TranscodeError } from './transcode-error.ts';

export interface Probe {
  /** demuxer name(s) as ffmpeg reports them, e.g. "mp3" or "mov,mp4,m4a,3gp,3g2,mj2" */
  format: string;
  codec: string;
  sampleRate: number | null;
  channels: string | null;
  /** duration the container declares; null when it does not say */
  durationMs: number | null;
  /** ffmpeg guessed the duration from the bitrate (e.g. VBR mp3 without a Xing header), so it may be far off */
  durationEstimated: boolean;
}

const FIELD = 'body/file';

/**
 * Reads the container header with `ffmpeg -i` (ffprobe is not shipped). ffmpeg exits 1 because no output is given;
 * what matters is whether it printed an input description with an audio stream.
 */
export async function probe(path: string): Promise<Probe> {
  const run = await runFfmpeg(['-hide_banner', '-nostdin', '-i', path], { timeoutMs: 30_000 });
  return parseProbe(run.stderr);
}

export function parseProbe(stderr: string): Probe {
  const input = /^Input #0, (.+?), from /m.exec(stderr);
  if (!input) throw new AppError(415, `not an audio file ffmpeg can read (${errorLines(stderr) || 'unrecognised data'})`, FIELD);
  const audio = /Stream #0:\d+.*?: Audio: ([^\s,(]+)[^,]*(?:, (\d+) Hz)?(?:, ([^,]+))?/.exec(stderr);
  if (!audio) {
    const kinds = [...stderr.matchAll(/Stream #0:\d+.*?: (\w+): (\w+)/g)].map((m) => `${m[1].toLowerCase()} ${m[2]}`);
    throw new AppError(415, `the file has no audio stream${kinds.length ? ` (found ${kinds.join(', ')})` : ''}`, FIELD);
  }
  const d = /Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)/.exec(stderr);
  return {
    format: input[1],
    codec: audio[1],
    sampleRate: audio[2] ? Number(audio[2]) : null,
    channels: audio[3]?.trim() ?? null,
    durationMs: d ? Math.round((Number(d[1]) * 3600 + Number(d[2]) * 60 + Number(d[3])) * 1000) : null,
    durationEstimated: /Estimating duration from bitrate/i.test(stderr),
  };
}

/** "31:05" / "1:02:03" for messages to an operator. */
export function clock(ms: number): string {
  const s = Math.round(ms / 1000);
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return hh ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

export function tooLong(durationMs: number, maxMs: number): TranscodeError {
  return new TranscodeError('too-long', `the audio is ${clock(durationMs)} long; the limit is ${clock(maxMs)}`);
}
