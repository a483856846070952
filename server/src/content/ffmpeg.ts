import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';

/** The ffmpeg every run uses, where it came from and its version; logged at start-up. */
export interface FfmpegChoice {
  path: string;
  /** configured: LOA_FFMPEG (config or environment); system: `ffmpeg` on PATH; bundled: @ffmpeg-installer/ffmpeg */
  origin: 'configured' | 'system' | 'bundled';
  /** e.g. "5.1.9-0+deb12u1" or "4.1-static"; null if it would not say */
  version: string | null;
}

/**
 * The ffmpeg binary: the one configured (useFfmpeg(), from config LOA_FFMPEG; else the LOA_FFMPEG environment
 * variable, for tools and tests that build no config); else a system ffmpeg on PATH when it is newer than the static
 * 4.1 build (2018) that @ffmpeg-installer/ffmpeg ships and has libopus (a newer one decodes more of what phones
 * send, e.g. AMR with DTX); else that bundled build, so `npm install && npm start` works alone. Only this module
 * knows where ffmpeg lives.
 */
export function ffmpegChoice(): FfmpegChoice {
  return (current ??= choose());
}
export const ffmpegPath = (): string => ffmpegChoice().path;

let configured: string | undefined;
let current: FfmpegChoice | undefined;

/** Uses this ffmpeg from now on; empty or undefined goes back to the default choice (made when first needed). */
export function useFfmpeg(path: string | undefined): void {
  configured = path || undefined;
  current = undefined;
}

/** The static build npm installs. */
export const bundledFfmpeg = (): string => (createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string }).path;

/** An executable `ffmpeg` on PATH, if any. */
export function systemFfmpeg(): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const file = join(dir, 'ffmpeg');
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      /* not here */
    }
  }
  return null;
}

function choose(): FfmpegChoice {
  const path = configured || process.env.LOA_FFMPEG;
  if (path) return { path, origin: 'configured', version: versionOf(path)?.version ?? null };
  const bundled = bundledFfmpeg();
  const mine = versionOf(bundled);
  const system = systemFfmpeg();
  const theirs = system ? versionOf(system) : null;
  if (system && theirs?.opus && (!mine || compareLibs(theirs.libs, mine.libs) > 0)) return { path: system, origin: 'system', version: theirs.version };
  return { path: bundled, origin: 'bundled', version: mine?.version ?? null };
}

/**
 * `ffmpeg -version`: the release name, libavfilter's version (comparable across distribution builds and git
 * snapshots, whose release names are not) and whether libopus was built in.
 */
export function versionOf(path: string): { version: string; libs: number[]; opus: boolean } | null {
  const run = spawnSync(path, ['-hide_banner', '-version'], { encoding: 'utf8', timeout: 10_000 });
  if (run.status !== 0 || !run.stdout) return null;
  const version = /^ffmpeg version (\S+)/m.exec(run.stdout)?.[1] ?? 'unknown';
  const lib = /^libavfilter\s+(\d+)\.\s*(\d+)\.\s*(\d+)/m.exec(run.stdout);
  return { version, libs: lib ? lib.slice(1).map(Number) : [], opus: /--enable-libopus\b/.test(run.stdout) };
}

function compareLibs(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? -1) !== (b[i] ?? -1)) return (a[i] ?? -1) - (b[i] ?? -1);
  return 0;
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
