import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

/**
 * The ffmpeg binary: the one chosen with useFfmpeg() (config LOA_FFMPEG), else the LOA_FFMPEG environment variable
 * (for tools and tests that build no config), else the static build from @ffmpeg-installer/ffmpeg. A system ffmpeg
 * must have libopus and the loudnorm filter. Only this module knows where ffmpeg lives.
 */
export function ffmpegPath(): string {
  return chosen || process.env.LOA_FFMPEG || (installed ??= (createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string }).path);
}
let chosen: string | undefined;
let installed: string | undefined;

/** Uses this ffmpeg from now on; empty or undefined goes back to the default. */
export function useFfmpeg(path: string | undefined): void {
  chosen = path || undefined;
}

export interface FfmpegRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  /** last `out_time` reported on `-progress pipe:1`, in ms; null when the run did not report progress */
  outTimeMs: number | null;
}

export interface RunOptions {
  /** called with the output position in ms as ffmpeg reports it (only with `-progress pipe:1` in args) */
  onProgress?: (outTimeMs: number) => void;
  /** kill ffmpeg after this long; a wedged decoder must not hold a queue slot forever */
  timeoutMs?: number;
}

const STDERR_CAP = 1 << 20;

/** Runs ffmpeg to completion and resolves with its exit status and stderr (never rejects on a non-zero exit). */
export function runFfmpeg(args: string[], opts: RunOptions = {}): Promise<FfmpegRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpegPath(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let outTimeMs: number | null = null;
    let pending = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      // Keep the head (input description) and the tail (loudnorm's JSON summary) of a chatty run.
      if (stderr.length > STDERR_CAP) stderr = stderr.slice(0, STDERR_CAP / 2) + '\n…\n' + stderr.slice(-STDERR_CAP / 2);
    });
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        // out_time_ms is in microseconds despite its name (an old ffmpeg bug kept for compatibility); so is out_time_us.
        const m = /^out_time_(?:us|ms)=(\d+)/.exec(line);
        if (m) {
          outTimeMs = Math.round(Number(m[1]) / 1000);
          opts.onProgress?.(outTimeMs);
        }
      }
    });
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : undefined;
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ffmpeg (${ffmpegPath()}): ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr, outTimeMs });
    });
  });
}

/** The lines of an ffmpeg log that report errors, without the banner noise; for messages to the operator. */
export function errorLines(stderr: string, max = 3): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /error|invalid|corrupt|truncat|missing|failed|could not|not found|does not|mismatch/i.test(l))
    .map((l) => l.replace(/^\[[^\]]+ @ 0x[0-9a-f]+\]\s*/, ''))
    // File names are server temp paths: no use to the operator, and not theirs to see.
    .map((l) => l.replace(/(^|\s)\/\S*?:\s/g, '$1'));
  return [...new Set(lines)].slice(0, max).join('; ');
}
