/**
 * How long a long upload takes to become content, and how loud it comes out (issue 9 §1).
 *
 *   npx tsx bench/transcode.ts [--ref HEAD|<commit>|worktree] [--minutes 25] [--repeat 3] [--ffmpeg <path>] [--out f]
 *
 * Makes one speech-with-silences recording (test/helpers/audio-zoo.ts: 16 kHz source, mono 44.1 kHz MP3 at 64 kb/s,
 * ~21 LUFS), then per repeat starts a fresh server from `--ref` (bench/loa-server.ts: a `git archive`, so two
 * commits compare on the same machine), logs in, uploads the file with `POST /api/content` (wait=true) and times
 * request → 201, i.e. the whole transcode, and measures the stored file with `ebur128=peak=true`. A fresh server
 * per repeat, because an identical second upload would be answered from the library. Prints the median and range.
 */
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { readFileSync, writeFileSync } from 'node:fs';
import { ffmpegChoice, useFfmpeg } from '../server/src/content/ffmpeg.ts';
import { ebur128, makeLongRecording } from '../test/helpers/audio-zoo.ts';
import { guardChildren, makeTempDir, resultsFiles, runMain, startWatchdog } from './harness.ts';
import { api, serverFromRef, startLoaServer } from './loa-server.ts';
import { median } from './stats.ts';

const log = (s: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${s}\n`);
guardChildren(log);

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && process.argv[at + 1] ? process.argv[at + 1] : fallback;
}

async function main(): Promise<void> {
  const ref = option('ref', 'HEAD');
  const minutes = Number(option('minutes', '25'));
  const repeat = Number(option('repeat', '3'));
  const ffmpeg = option('ffmpeg', '');
  const watchdog = startWatchdog(20 + repeat * minutes, 3, log);
  const { logDir, save, out } = resultsFiles('transcode-', option('out', '') || null);
  useFfmpeg(ffmpeg || undefined);
  const work = makeTempDir('loa-bench-transcode-');
  log(`making a ${minutes}-minute recording with ${ffmpegChoice().path}`);
  const rec = await makeLongRecording(work, minutes * 60);
  const serverDir = serverFromRef(ref);
  const runs: { seconds: number; i: number; tp: number; reportedLufs: number | null }[] = [];
  const doc = { ref, minutes, file: rec.file, ffmpeg: ffmpeg || 'default choice', machine: { cpu: cpus()[0]?.model, cores: cpus().length, memGiB: Math.round(totalmem() / 2 ** 30) }, runs };
  for (let r = 0; r < repeat; r++) {
    const srv = await startLoaServer({ serverDir, logFile: join(logDir, `server-${r}.log`), name: 'server', dataDirPrefix: 'loa-bench-data-', env: ffmpeg ? { LOA_FFMPEG: ffmpeg } : {} });
    try {
      const { token } = await api<{ token: string }>(srv.base, 'POST', '/api/auth/login', null, { username: 'admin', password: srv.password });
      const form = new FormData();
      form.append('file', new Blob([readFileSync(rec.path)]), rec.file);
      const t0 = performance.now();
      const res = await fetch(`${srv.base}/api/content`, { method: 'POST', body: form, headers: { authorization: `Bearer ${token}` } });
      const seconds = (performance.now() - t0) / 1000;
      const item = (await res.json()) as { id: string; loudness: { integratedLufs: number } | null; error?: string };
      if (res.status !== 201) throw new Error(`upload → ${res.status}: ${JSON.stringify(item)}`);
      const audio = await fetch(`${srv.base}/api/content/${item.id}/audio`, { headers: { authorization: `Bearer ${token}` } });
      const stored = join(work, `stored-${r}.ogg`);
      writeFileSync(stored, Buffer.from(await audio.arrayBuffer()));
      const m = await ebur128(stored);
      runs.push({ seconds: Math.round(seconds * 10) / 10, ...m, reportedLufs: item.loudness?.integratedLufs ?? null });
      log(`run ${r + 1}/${repeat}: ${seconds.toFixed(1)} s, stored file ${m.i} LUFS, ${m.tp} dBTP`);
      save(doc);
    } finally {
      await srv.stop(10_000);
    }
  }
  clearTimeout(watchdog);
  const s = runs.map((x) => x.seconds);
  console.log(`${minutes}-minute upload, ref ${ref}: median ${median(s)} s (range ${Math.min(...s)}–${Math.max(...s)}, n=${s.length}) on ${doc.machine.cpu} ×${doc.machine.cores}; results ${out}`);
}

runMain(main, log);
