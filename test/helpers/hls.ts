/**
 * A live HLS upstream on loopback: ffmpeg's HLS muxer writes the marker programme (AAC in MPEG-TS, 1 s segments, the
 * last 6 listed, older ones deleted) into a temp dir, and a tiny static HTTP server serves it. Resolves once the
 * playlist lists 3 segments, the live edge ffmpeg's HLS demuxer starts from.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { ffmpegPath } from '../../server/src/content/ffmpeg.ts';
import { markerInputArgs } from './markers.ts';

export interface HlsUpstream {
  url: string;
  startedAt: number;
  /** The encoder dies but the HTTP server goes on serving the last playlist: a live stream that stops advancing. */
  freeze(): Promise<void>;
  stop(): Promise<void>;
}

const TYPES: Record<string, string> = { m3u8: 'application/vnd.apple.mpegurl', ts: 'video/mp2t' };

export async function startHls(o: { markerEveryS?: number } = {}): Promise<HlsUpstream> {
  const dir = mkdtempSync(join(tmpdir(), 'loa-hls-'));
  const playlist = join(dir, 'live.m3u8');
  const startedAt = Date.now();
  const ff = spawn(ffmpegPath(), ['-hide_banner', '-nostdin', '-v', 'error', '-re', ...markerInputArgs({ everyS: o.markerEveryS }), '-ac', '1', '-c:a', 'aac', '-b:a', '64k',
    '-f', 'hls', '-hls_time', '1', '-hls_list_size', '6', '-hls_flags', 'delete_segments', '-hls_segment_filename', join(dir, 'seg%05d.ts'), playlist], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  ff.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((r) => ff.once('exit', () => r()));
  const server: Server = createServer((req, res) => {
    const name = basename(new URL(req.url ?? '/', 'http://x').pathname);
    readFile(join(dir, name)).then(
      (body) => res.writeHead(200, { 'content-type': TYPES[name.split('.').pop() ?? ''] ?? 'application/octet-stream', 'cache-control': 'no-cache' }).end(body),
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/live.m3u8`;
  const freeze = async () => {
    if (ff.exitCode === null && ff.signalCode === null) {
      ff.kill('SIGKILL');
      await exited;
    }
  };
  const stop = async () => {
    await freeze();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; ; i++) {
    const text = await readFile(playlist, 'utf8').catch(() => '');
    if ((text.match(/#EXTINF/g) ?? []).length >= 3) break;
    if (ff.exitCode !== null || i > 150) {
      await stop();
      throw new Error(`HLS upstream did not start: ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, startedAt, freeze, stop };
}
