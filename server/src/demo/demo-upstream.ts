/**
 * The demo's own radio station, so a newcomer sees a relay work with no internet: ffmpeg plays a generated tune
 * (a tone with a beep each second) as an endless MP3 over HTTP on loopback, the way an Icecast/SHOUTcast server
 * serves a station. Every listener joins at the live position; nobody gets a burst of old audio.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ffmpegPath } from '../content/ffmpeg.ts';

export interface DemoUpstream {
  url: string;
  stop(): Promise<void>;
}

export async function startDemoUpstream(): Promise<DemoUpstream> {
  const listeners = new Set<ServerResponse>();
  let ff: ChildProcess | null = null;
  let stopped = false;
  const run = () => {
    ff = spawn(ffmpegPath(), ['-hide_banner', '-nostdin', '-v', 'error', '-re', '-f', 'lavfi', '-i', 'sine=frequency=392:beep_factor=2:sample_rate=44100,volume=0.4', '-ac', '1', '-c:a', 'libmp3lame', '-b:a', '64k', '-f', 'mp3', 'pipe:1'], { stdio: ['ignore', 'pipe', 'ignore'] });
    ff.stdout!.on('data', (chunk: Buffer) => {
      for (const res of listeners) if (res.writableLength < 256 * 1024) res.write(chunk);
    });
    // An ffmpeg that dies is started again: the demo station stays on air like a real one.
    ff.on('exit', () => !stopped && setTimeout(run, 1000).unref());
  };
  run();
  const server = createServer((req, res) => {
    if (req.url !== '/demo.mp3') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'audio/mpeg', 'cache-control': 'no-store', 'icy-name': 'Loa Xa demo' });
    listeners.add(res);
    req.on('close', () => listeners.delete(res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/demo.mp3`,
    stop: async () => {
      stopped = true;
      ff?.kill('SIGKILL');
      for (const res of listeners) res.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
