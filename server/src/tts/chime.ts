import { existsSync, mkdirSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { errorLines, runFfmpeg } from '../content/ffmpeg.ts';

/** Bump when the recipe changes, so a cached chime from an older recipe is not reused. */
const CHIME_FILE = 'chime-v1.wav';
const FMT = 'aformat=sample_fmts=s16:sample_rates=48000:channel_layouts=mono';
const GAP_S = 0.4;

/**
 * A two-tone "ding-dong" (E5 then C5, each with a soft octave partial and a bell-like exponential decay, 1.75 s),
 * made from ffmpeg's sine source: no downloaded asset, and the same bytes on every server. About −20 LUFS, a little
 * below synthesised speech, so after the bulletin's loudness normalisation it announces rather than startles.
 */
const RECIPE = [
  '-f', 'lavfi', '-i', 'sine=f=659.25:d=0.65:sample_rate=48000',
  '-f', 'lavfi', '-i', 'sine=f=1318.5:d=0.65:sample_rate=48000',
  '-f', 'lavfi', '-i', 'sine=f=523.25:d=1.1:sample_rate=48000',
  '-f', 'lavfi', '-i', 'sine=f=1046.5:d=1.1:sample_rate=48000',
  '-filter_complex',
  '[1]volume=0.3[h1];[0][h1]amix=inputs=2,afade=t=in:d=0.008,afade=t=out:st=0.02:d=0.63:curve=exp[a];' +
    '[3]volume=0.3[h2];[2][h2]amix=inputs=2,afade=t=in:d=0.008,afade=t=out:st=0.02:d=1.08:curve=exp[b];' +
    '[a][b]concat=n=2:v=0:a=1,volume=7',
  '-ac', '1', '-c:a', 'pcm_s16le', '-f', 'wav',
];

/** The chime file in `dir`, generated on first use (written to a temp name and renamed, so never seen half-made). */
export async function ensureChime(dir: string): Promise<string> {
  const path = join(dir, CHIME_FILE);
  if (existsSync(path)) return path;
  mkdirSync(dir, { recursive: true });
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  try {
    const run = await runFfmpeg(['-hide_banner', '-nostdin', '-v', 'error', '-y', ...RECIPE, tmp], { timeoutMs: 30_000 });
    if (run.code !== 0) throw new Error(`cannot make the chime: ${errorLines(run.stderr) || run.stderr.slice(-300)}`);
    await rename(tmp, path);
    return path;
  } finally {
    await rm(tmp, { force: true });
  }
}

/** Writes `speech` with the chime before and/or after it (0.4 s apart) to `out` as 48 kHz mono WAV. */
export async function addChime(speech: string, chime: string, where: { before: boolean; after: boolean }, out: string): Promise<void> {
  const parts: string[] = [];
  const graph: string[] = [];
  const chimes = Number(where.before) + Number(where.after);
  graph.push(chimes === 2 ? `[0]${FMT},asplit=2[c0][c1]` : `[0]${FMT}[c0]`, `[1]${FMT}[s]`);
  const gap = (n: number) => {
    graph.push(`aevalsrc=0:d=${GAP_S}:s=48000:c=mono,${FMT}[g${n}]`);
    return `[g${n}]`;
  };
  if (where.before) parts.push('[c0]', gap(0));
  parts.push('[s]');
  if (where.after) parts.push(gap(1), where.before ? '[c1]' : '[c0]');
  graph.push(`${parts.join('')}concat=n=${parts.length}:v=0:a=1`);
  const run = await runFfmpeg(['-hide_banner', '-nostdin', '-v', 'error', '-y', '-i', chime, '-i', speech, '-filter_complex', graph.join(';'), '-c:a', 'pcm_s16le', '-f', 'wav', out], { timeoutMs: 120_000 });
  if (run.code !== 0) throw new Error(`cannot add the chime: ${errorLines(run.stderr) || run.stderr.slice(-300)}`);
}
