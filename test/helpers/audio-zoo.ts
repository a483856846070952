import { join } from 'node:path';
import { runFfmpeg } from '../../server/src/content/ffmpeg.ts';

/**
 * An "audio zoo" of what operators really upload, made on the spot with ffmpeg's lavfi sources (nothing downloaded
 * or committed): speech-like and music-like signals at realistic levels, in the containers and codecs phones,
 * old PCs and cameras produce, including the awkward ones (quiet, clipped, 8 kHz telephone, a video's audio track,
 * an MP3 with cover art, a long recording with silences).
 */

/**
 * Voiced speech: a 110–150 Hz glottal tone with falling harmonics under syllable envelopes (~3 a second) and
 * phrase pauses, plus short bursts of noise for fricatives and plosives. Like real speech its peaks stand well
 * above its loudness (peak-to-loudness ratio ~15–20 dB), which is what makes −16 LUFS need a limiter.
 * Variables: 0 pitch phase, 1 syllable envelope, 2 phrase gate, 5 random state.
 */
const SPEECH =
  'st(0,2*PI*130*t-22*cos(PI*0.9*t)+9*sin(PI*2.3*t));' +
  'st(1,pow(abs(sin(PI*3.1*t+0.7*sin(PI*0.37*t))),1.5)*(0.55+0.45*sin(PI*0.61*t+1)));' +
  'st(2,gt(sin(2*PI*0.21*t)+0.6*sin(2*PI*0.077*t+2),-0.55));' +
  'ld(2)*(ld(1)*(sin(ld(0))+0.7*sin(2*ld(0)+0.3)+0.5*sin(3*ld(0)+1.1)+0.35*sin(4*ld(0))+0.25*sin(5*ld(0)+2)+0.15*sin(7*ld(0)))' +
  '+0.5*gt(sin(2*PI*1.3*t+sin(PI*0.5*t)),0.93)*(2*random(5)-1))';

/** Silences of 2–9 s between stretches of speech, as in a recorded meeting or a slow bulletin. */
const SPEECH_WITH_SILENCES = `(${SPEECH})*gt(sin(2*PI*t/37)+0.8*sin(2*PI*t/11.3+1),-0.2)`;

/** Music: a bass line, a three-note chord that changes every 2 s with struck envelopes, and a hi-hat of noise. */
const MUSIC_CH = (detune: number) =>
  `st(0,floor(t/2));st(1,mod(t,0.5));` +
  `0.5*sin(2*PI*(55+11*mod(ld(0),3))*t)*exp(-3*mod(t,1))` +
  `+0.3*(sin(2*PI*${220 + detune}*(1+0.125*mod(ld(0),4))*t)+sin(2*PI*277*(1+0.125*mod(ld(0),4))*t)+sin(2*PI*330*(1+0.125*mod(ld(0),4))*t))*exp(-1.5*mod(t,2))` +
  `+0.15*exp(-40*ld(1))*(2*random(5)-1)`;

export interface ZooAnimal {
  name: string;
  /** file name as uploaded */
  file: string;
  path: string;
  /** approximate loudness it was made at, LUFS (lossy codecs move it a little) */
  lufs: number;
  seconds: number;
}

async function ff(args: string[]): Promise<string> {
  const run = await runFfmpeg(['-hide_banner', '-nostdin', '-y', ...args]);
  if (run.code !== 0) throw new Error(`ffmpeg ${args.join(' ')} failed: ${run.stderr.slice(-2000)}`);
  return run.stderr;
}

/** Integrated loudness and true peak as ffmpeg's `ebur128=peak=true` reports them in its closing summary. */
export async function ebur128(file: string): Promise<{ i: number; tp: number }> {
  const log = await ff(['-nostats', '-i', file, '-map', '0:a:0', '-af', 'ebur128=peak=true:framelog=verbose', '-f', 'null', '-']);
  const summary = log.slice(log.lastIndexOf('Summary:'));
  const i = Number(/Integrated loudness:\s+I:\s+(-?[\d.]+) LUFS/.exec(summary)?.[1]);
  const tp = Number(/True peak:\s+Peak:\s+(-?[\d.]+|-inf) dBFS/.exec(summary)?.[1]);
  if (Number.isNaN(i) || Number.isNaN(tp)) throw new Error('no ebur128 summary: ' + log.slice(-1000));
  return { i, tp };
}

/** A float WAV master of `expr` (aevalsrc; `|` separates channels), scaled to `lufs`. */
async function master(out: string, expr: string, seconds: number, lufs: number, rate = 48_000): Promise<string> {
  const raw = `${out}.raw.wav`;
  await ff(['-f', 'lavfi', '-i', `aevalsrc='${expr}':s=${rate}:d=${seconds}`, '-c:a', 'pcm_f32le', raw]);
  const { i } = await ebur128(raw);
  await ff(['-i', raw, '-af', `volume=${(lufs - i).toFixed(2)}dB`, '-c:a', 'pcm_f32le', out]);
  return out;
}

type Recipe = { name: string; file: string; lufs: number; source: 'speech' | 'music'; args: string[]; video?: 'mp4' | 'cover' };

/** Short animals: each 6 s, from two masters (speech at −23 LUFS, music at −14 LUFS), re-levelled per recipe. */
const RECIPES: Recipe[] = [
  { name: 'phone memo (AAC in M4A, mono 44.1 kHz)', file: 'ghi-am.m4a', lufs: -24, source: 'speech', args: ['-ac', '1', '-ar', '44100', '-c:a', 'aac', '-b:a', '64k'] },
  { name: '8 kHz telephone WAV', file: 'dien-thoai.wav', lufs: -20, source: 'speech', args: ['-ac', '1', '-ar', '8000', '-c:a', 'pcm_s16le'] },
  { name: 'loud speech, FLAC stereo', file: 'loa-to.flac', lufs: -11, source: 'speech', args: ['-ac', '2', '-ar', '48000', '-c:a', 'flac'] },
  { name: 'Opus in WebM', file: 'zalo.webm', lufs: -19, source: 'speech', args: ['-ac', '1', '-ar', '48000', '-c:a', 'libopus', '-b:a', '48k', '-f', 'webm'] },
  { name: "a video's audio track (MP4, H.264 + AAC)", file: 'video.mp4', lufs: -22, source: 'speech', video: 'mp4', args: ['-ac', '2', '-ar', '48000', '-c:a', 'aac', '-b:a', '96k'] },
  { name: 'music, MP3 with cover art', file: 'nhac.mp3', lufs: -10, source: 'music', video: 'cover', args: ['-ac', '2', '-ar', '44100', '-c:a', 'libmp3lame', '-b:a', '128k'] },
  { name: 'quiet recording (−40 LUFS WAV)', file: 'nho.wav', lufs: -40, source: 'speech', args: ['-ac', '1', '-ar', '44100', '-c:a', 'pcm_s16le'] },
  // 25 dB over the level where its peaks reach full scale, written as 16-bit: hard-clipped, as an overdriven phone records.
  { name: 'clipped speech (WAV)', file: 'vo-tieng.wav', lufs: 0, source: 'speech', args: ['-ac', '1', '-ar', '44100', '-c:a', 'pcm_s16le'] },
];
const SHORT_S = 6;

/** The short animals, in `dir`. */
export async function makeZoo(dir: string): Promise<ZooAnimal[]> {
  const speech = await master(join(dir, 'speech.wav'), SPEECH, SHORT_S, -23);
  const music = await master(join(dir, 'music.wav'), `${MUSIC_CH(0)}|${MUSIC_CH(3)}`, SHORT_S, -14, 44_100);
  const cover = join(dir, 'cover.png');
  await ff(['-f', 'lavfi', '-i', 'testsrc=s=300x300:d=1', '-frames:v', '1', cover]);
  return Promise.all(
    RECIPES.map(async (r) => {
      const path = join(dir, r.file);
      const src = r.source === 'speech' ? speech : music;
      const gain = r.lufs - (r.source === 'speech' ? -23 : -14);
      const video =
        r.video === 'mp4' ? ['-f', 'lavfi', '-i', `testsrc=s=160x120:r=10:d=${SHORT_S}`] : r.video === 'cover' ? ['-i', cover] : [];
      const maps =
        r.video === 'mp4' ? ['-map', '1:v', '-map', '0:a', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-shortest']
        : r.video === 'cover' ? ['-map', '0:a', '-map', '1:v', '-c:v', 'copy', '-id3v2_version', '3', '-disposition:v', 'attached_pic']
        : [];
      await ff(['-i', src, ...video, ...maps, '-af', `volume=${gain.toFixed(2)}dB`, ...r.args, path]);
      return { name: r.name, file: r.file, path, lufs: r.lufs, seconds: SHORT_S };
    }),
  );
}

/** Speech with long silences, `seconds` long, as a mono 44.1 kHz MP3 at about −21 LUFS (16 kHz source, like a voice recorder). */
export async function makeLongRecording(dir: string, seconds: number): Promise<ZooAnimal> {
  const src = await master(join(dir, `long-${seconds}.wav`), SPEECH_WITH_SILENCES, seconds, -21, 16_000);
  const file = `hop-${seconds}s.mp3`;
  await ff(['-i', src, '-ac', '1', '-ar', '44100', '-c:a', 'libmp3lame', '-b:a', '64k', join(dir, file)]);
  return { name: `${seconds} s of speech with silences (MP3)`, file, path: join(dir, file), lufs: -21, seconds };
}
