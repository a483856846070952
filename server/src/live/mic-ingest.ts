/**
 * The console's microphone: MediaRecorder chunks (WebM/Opus from Chromium, Ogg/Opus from Firefox) decoded by ffmpeg
 * from stdin into the live path's PCM. The container is sniffed from the first bytes and named to ffmpeg (`-f`), so
 * it skips format probing; with a tiny probe and no demuxer buffering the voice reaches the queue within a frame or
 * two of arriving (test/live-mic-ingest.test.ts measures it).
 */
import { spawn } from 'node:child_process';
import type { Logger } from 'pino';
import { PCM_RATE, type PcmQueue } from './pcm.ts';

export interface MicIngest {
  write(chunk: Buffer): void;
  /** closes the decoder's input; resolves when it has drained and exited */
  end(): Promise<void>;
}

export interface MicIngestOptions {
  ffmpeg: string;
  log: Logger;
  queue: PcmQueue;
  /** the decoder stopped on bad input or the first chunk is neither WebM nor Ogg; called at most once */
  onFailure?: (detail: string) => void;
}

/** EBML magic of WebM/Matroska, and Ogg's capture pattern. */
export function sniffContainer(head: Buffer): 'webm' | 'ogg' | null {
  if (head.length >= 4 && head.readUInt32BE(0) === 0x1a45dfa3) return 'webm';
  if (head.length >= 4 && head.toString('latin1', 0, 4) === 'OggS') return 'ogg';
  return null;
}

export function startMicIngest(o: MicIngestOptions): MicIngest {
  let ff: ReturnType<typeof spawn> | null = null;
  let exited: Promise<void> = Promise.resolve();
  let failed = false;
  let ended = false;
  let stderr = '';
  const fail = (detail: string) => {
    if (failed || ended) return;
    failed = true;
    o.log.warn({ detail }, 'microphone decoder failed');
    o.onFailure?.(detail);
  };
  const open = (format: 'webm' | 'ogg') => {
    // matroska is the demuxer's name for WebM; -analyzeduration 0 and a 1 KB probe: the stream is known to be Opus.
    const child = spawn(o.ffmpeg, ['-hide_banner', '-nostdin', '-loglevel', 'error', '-fflags', 'nobuffer', '-flags', 'low_delay', '-probesize', '1024', '-analyzeduration', '0',
      '-f', format === 'webm' ? 'matroska' : 'ogg', '-i', 'pipe:0', '-vn', '-ac', '1', '-ar', String(PCM_RATE), '-f', 's16le', '-flush_packets', '1', 'pipe:1'], { stdio: ['pipe', 'pipe', 'pipe'] });
    // A pipe read may end mid-sample; the queue keeps whole samples only, so the odd byte waits for the next read.
    let odd: Buffer | null = null;
    child.stdout!.on('data', (data: Buffer) => {
      let pcm = odd ? Buffer.concat([odd, data]) : data;
      odd = pcm.length % 2 ? pcm.subarray(pcm.length - 1) : null;
      if (odd) pcm = pcm.subarray(0, pcm.length - 1);
      if (pcm.length) o.queue.push(pcm);
    });
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-1000)));
    child.stdin!.on('error', () => undefined); // reported by 'exit'
    exited = new Promise<void>((resolve) => {
      child.on('error', (err) => {
        fail(`cannot run ffmpeg: ${err.message}`);
        resolve();
      });
      child.on('exit', (code) => {
        if (code) fail(stderr.trim() || `ffmpeg exited (${code})`);
        resolve();
      });
    });
    ff = child;
  };
  return {
    write: (chunk) => {
      if (ended || failed || chunk.length === 0) return;
      if (!ff) {
        const format = sniffContainer(chunk);
        if (!format) return fail('not WebM or Ogg audio');
        open(format);
      }
      if (ff!.stdin!.writable) ff!.stdin!.write(chunk);
    },
    end: async () => {
      ended = true;
      const child = ff;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      child.stdin!.end();
      const kill = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(kill);
    },
  };
}
