/**
 * The console's microphone: MediaRecorder chunks (WebM/Opus from Chromium, Ogg/Opus from Firefox) decoded by ffmpeg
 * from stdin into the live path's PCM, with the smallest probe and no demuxer buffering, so the voice reaches the
 * stream within a chunk or two.
 */
import { spawn } from 'node:child_process';
import type { Logger } from 'pino';
import { PCM_RATE, type PcmQueue } from './pcm.ts';

export interface MicIngest {
  write(chunk: Buffer): void;
  end(): Promise<void>;
}

export function startMicIngest(o: { ffmpeg: string; log: Logger; queue: PcmQueue }): MicIngest {
  const ff = spawn(o.ffmpeg, ['-hide_banner', '-nostdin', '-v', 'error', '-fflags', 'nobuffer', '-flags', 'low_delay', '-probesize', '4096', '-analyzeduration', '0',
    '-i', 'pipe:0', '-vn', '-ac', '1', '-ar', String(PCM_RATE), '-f', 's16le', 'pipe:1'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  ff.stdout!.on('data', (pcm: Buffer) => o.queue.push(pcm));
  ff.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-1000)));
  ff.stdin!.on('error', () => undefined);
  const exited = new Promise<void>((resolve) => ff.on('exit', (code) => {
    if (code) o.log.warn({ code, detail: stderr.trim() }, 'microphone decoder stopped');
    resolve();
  }));
  return {
    write: (chunk) => {
      if (ff.stdin!.writable) ff.stdin!.write(chunk);
    },
    end: async () => {
      if (ff.exitCode !== null) return;
      ff.stdin!.end();
      const kill = setTimeout(() => ff.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(kill);
    },
  };
}
