import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import '../../server/src/http/types.ts';
import { installErrorHandler } from '../../server/src/http/error-handler.ts';
import type { Actor, Role } from '../../server/src/shared/actor.ts';
import { forbidden } from '../../server/src/shared/errors.ts';
import { runFfmpeg } from '../../server/src/content/ffmpeg.ts';
import { measure } from '../../server/src/content/transcode.ts';

/**
 * Audio fixtures made on the spot with ffmpeg's lavfi sources (nothing downloaded or committed): a 3 s "speech-like"
 * mix of two tremolo tones and pink noise, at a chosen loudness, in each container/codec operators actually send.
 */
const BASE_LUFS = -31.2; // measured loudness of the mix below before any gain (stereo)
const SIGNAL =
  '[0]tremolo=f=4:d=0.8[a];[2]tremolo=f=3:d=0.9[c];[a][1][c]amix=inputs=3';

export interface AudioFixture {
  name: string;
  path: string;
  /** loudness the fixture was made at (approximate: lossy codecs move it a little) */
  lufs: number;
}

export const FORMATS: { name: string; ext: string; lufs: number; args: string[] }[] = [
  { name: 'mp3', ext: 'mp3', lufs: -35, args: ['-ac', '2', '-ar', '44100', '-c:a', 'libmp3lame', '-b:a', '96k'] },
  { name: 'wav', ext: 'wav', lufs: -9, args: ['-ac', '2', '-ar', '44100', '-c:a', 'pcm_s16le'] },
  { name: 'm4a/aac', ext: 'm4a', lufs: -35, args: ['-ac', '2', '-ar', '44100', '-c:a', 'aac', '-b:a', '96k'] },
  { name: 'ogg/opus', ext: 'ogg', lufs: -9, args: ['-ac', '2', '-ar', '48000', '-c:a', 'libopus', '-b:a', '64k'] },
  { name: 'flac', ext: 'flac', lufs: -35, args: ['-ac', '1', '-ar', '48000', '-c:a', 'flac'] },
  { name: 'amr-nb', ext: 'amr', lufs: -9, args: ['-ac', '1', '-ar', '8000', '-c:a', 'libopencore_amrnb', '-b:a', '12.2k'] },
];

async function ff(args: string[]): Promise<void> {
  const run = await runFfmpeg(['-hide_banner', '-nostdin', '-v', 'error', '-y', ...args]);
  if (run.code !== 0) throw new Error(`ffmpeg ${args.join(' ')} failed: ${run.stderr}`);
}

/** The test signal at `lufs`, `seconds` long, encoded with `args` into `out`. */
export async function makeSignal(out: string, opts: { lufs: number; seconds?: number; args: string[]; seed?: number }): Promise<string> {
  const d = opts.seconds ?? 3;
  await ff([
    '-f', 'lavfi', '-i', `sine=f=220:sample_rate=48000:d=${d}`,
    '-f', 'lavfi', '-i', `anoisesrc=c=pink:a=0.2:r=48000:d=${d}:seed=${opts.seed ?? 7}`,
    '-f', 'lavfi', '-i', `sine=f=660:sample_rate=48000:d=${d}`,
    '-filter_complex', `${SIGNAL},volume=${(opts.lufs - BASE_LUFS).toFixed(2)}dB`,
    ...opts.args, out,
  ]);
  return out;
}

/** One fixture per accepted format, alternating quiet (−35 LUFS) and loud (−9 LUFS). */
export async function makeFormatFixtures(dir: string): Promise<AudioFixture[]> {
  return Promise.all(
    FORMATS.map(async (f, i) => ({ name: f.name, lufs: f.lufs, path: await makeSignal(join(dir, `fixture-${i}.${f.ext}`), { lufs: f.lufs, args: f.args }) })),
  );
}

/** Files that must be refused, each named for what is wrong with it. */
export async function makeBadFixtures(dir: string, goodMp3: string) {
  const png = join(dir, 'picture.mp3');
  await ff(['-f', 'lavfi', '-i', 'color=c=red:s=16x16:d=1', '-frames:v', '1', '-f', 'image2', '-c:v', 'png', png]);
  const text = join(dir, 'notice.mp3');
  writeFileSync(text, 'UBND xã thông báo: đây là văn bản, không phải âm thanh.\n'.repeat(40));
  const empty = join(dir, 'empty.mp3');
  writeFileSync(empty, '');
  const truncated = join(dir, 'truncated.mp3');
  const whole = readFileSync(goodMp3);
  writeFileSync(truncated, whole.subarray(0, Math.floor(whole.length / 2)));
  const damaged = join(dir, 'damaged.mp3');
  const garbled = Buffer.from(whole);
  for (let i = Math.floor(whole.length / 3), x = 7; i < whole.length / 2; i += 7) garbled[i] = x = (x * 131 + 17) % 256;
  writeFileSync(damaged, garbled);
  const silent = join(dir, 'silent.wav');
  await ff(['-f', 'lavfi', '-i', 'anullsrc=r=48000:cl=mono', '-t', '2', silent]);
  return { png, text, empty, truncated, damaged, silent };
}

export function copy(src: string, dest: string): string {
  copyFileSync(src, dest);
  return dest;
}

/** Container, codec, rate and channels of a file, read from `ffmpeg -i` like the server does. */
export async function describe(file: string): Promise<{ container: string; codec: string; sampleRate: number; channels: string; durationMs: number }> {
  const run = await runFfmpeg(['-hide_banner', '-nostdin', '-i', file]);
  const input = /^Input #0, (.+?), from /m.exec(run.stderr);
  const a = /Stream #0:\d+.*?: Audio: (\w+).*?, (\d+) Hz, (\w+)/.exec(run.stderr);
  const d = /Duration: (\d+):(\d\d):(\d\d\.\d+)/.exec(run.stderr);
  if (!input || !a || !d) throw new Error('not audio: ' + run.stderr);
  return {
    container: input[1],
    codec: a[1],
    sampleRate: Number(a[2]),
    channels: a[3],
    durationMs: Math.round((Number(d[1]) * 3600 + Number(d[2]) * 60 + Number(d[3])) * 1000),
  };
}

export { measure as loudness };

/**
 * A bare Fastify app with the shared error handler and a stand-in for the auth plugin (role from `x-role`, default
 * operator; `config.roles` enforced the same way), for testing route plugins before they are wired into buildApp.
 */
export async function bareApp(register: (app: FastifyInstance) => Promise<void>): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false } } }).withTypeProvider<TypeBoxTypeProvider>();
  installErrorHandler(app);
  app.decorateRequest('actor', null as unknown as Actor);
  app.addHook('onRequest', async (req) => {
    const role = (req.headers['x-role'] as Role | undefined) ?? 'operator';
    const roles = req.routeOptions.config.roles;
    if (roles && !roles.includes(role)) throw forbidden(`requires role ${roles.join(' or ')}`);
    req.actor = { id: `us-${role}`, name: role, role, scope: 'all' };
  });
  await register(app);
  await app.ready();
  return app;
}
