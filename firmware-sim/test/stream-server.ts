/**
 * A live Ogg/Opus stream source for simulator tests (protocol v1.2), independent of the server's live engine: a
 * real Opus file made by the bundled ffmpeg, served over chunked HTTP with its pages paced at real time from a chosen
 * epoch — page k leaves when its last sample has been "captured" (epoch + its granule / 48 kHz), as a live encoder
 * would send it. A connection joins at the live position: the two header pages, then pages produced from now on.
 * Knobs per stream: fail the first requests (404), send garbage, pause sending (pages due meanwhile are skipped: the
 * server jumps to the live position), leave the epoch out of the header (the OpusTags comment still has it).
 */
import { spawnSync } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OggPageReader, opusPreSkip, STREAM_EPOCH_HEADER, type OggPage } from '../../schemas/device-protocol/index.ts';
import { ffmpegPath } from '../../server/src/content/ffmpeg.ts';

/** An Ogg/Opus encoding of a sine, 48 kHz mono, 20 ms frames in 40 ms pages, with LOA_EPOCH_MS = `epoch` in its tags. */
export function encodeOpus(seconds: number, epoch = 0): Buffer {
  const r = spawnSync(
    ffmpegPath(),
    ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `sine=f=440:r=48000:d=${seconds}`, '-ac', '1', '-c:a', 'libopus', '-b:a', '24k',
      '-frame_duration', '20', '-page_duration', '40000', '-metadata', `LOA_EPOCH_MS=${epoch}`, '-f', 'ogg', 'pipe:1'],
    { maxBuffer: 64 << 20 },
  );
  if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr}`);
  return r.stdout;
}

export interface LiveStream {
  /** True (= server) time of sample 0. */
  epoch: number;
  pages: OggPage[];
  preSkip: number;
  /** Answer this many requests with 404 first. */
  fail: number;
  garbage: boolean;
  epochHeader: boolean;
  /** True-time window in which nothing is sent; pages produced then are never sent. */
  pause: { from: number; to: number } | null;
  requests: { at: number; status: number; user: string | null }[];
  /** Connections open now. */
  open: number;
}

export class StreamServer {
  readonly streams = new Map<string, LiveStream>();
  url = '';
  private readonly sockets = new Set<ServerResponse>();

  private constructor(
    private readonly server: Server,
    private readonly trueNow: () => number,
  ) {}

  static async start(trueNow: () => number): Promise<StreamServer> {
    const s = new StreamServer(createServer((req, res) => s.handle(req, res)), trueNow);
    await new Promise<void>((r) => s.server.listen(0, '127.0.0.1', r));
    s.url = `http://127.0.0.1:${(s.server.address() as AddressInfo).port}`;
    return s;
  }

  /** Serve `ogg` at `path` with sample 0 at true time `epoch`. */
  add(path: string, ogg: Buffer, epoch: number, over: Partial<Omit<LiveStream, 'pages' | 'preSkip' | 'epoch'>> = {}): LiveStream {
    const pages = new OggPageReader().push(ogg);
    const s: LiveStream = { epoch, pages, preSkip: opusPreSkip(pages[0]!.body), fail: 0, garbage: false, epochHeader: true, pause: null, requests: [], open: 0, ...over };
    this.streams.set(path, s);
    return s;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const s = this.streams.get(new URL(req.url ?? '/', 'http://x').pathname);
    const auth = req.headers.authorization;
    const user = auth?.startsWith('Basic ') ? Buffer.from(auth.slice(6), 'base64').toString().split(':')[0]! : null;
    const status = !s ? 404 : s.fail > 0 ? (s.fail--, 404) : 200;
    s?.requests.push({ at: this.trueNow(), status, user });
    if (!s || status !== 200) return void res.writeHead(status).end();
    res.writeHead(200, { 'content-type': 'audio/ogg', ...(s.epochHeader ? { [STREAM_EPOCH_HEADER]: String(s.epoch) } : {}) });
    res.flushHeaders();
    if (s.garbage) return void res.end(Buffer.from('ID3\x03\x00 this is an mp3, not Ogg/Opus '.repeat(20)));
    s.open++;
    this.sockets.add(res);
    res.on('close', () => {
      s.open--;
      this.sockets.delete(res);
    });
    res.write(Buffer.concat([s.pages[0]!.bytes, s.pages[1]!.bytes]));
    const due = (p: OggPage) => s.epoch + ((p.granule - s.preSkip) * 1000) / 48_000;
    // The live position: the first page not yet produced.
    let i = 2;
    while (i < s.pages.length && due(s.pages[i]!) < this.trueNow()) i++;
    const next = () => {
      if (res.destroyed) return;
      const now = this.trueNow();
      while (i < s.pages.length && due(s.pages[i]!) <= now) {
        const p = s.pages[i++]!;
        const at = due(p);
        if (!(s.pause && at >= s.pause.from && at < s.pause.to)) res.write(p.bytes);
      }
      if (i >= s.pages.length) return void res.end();
      setTimeout(next, Math.max(0, due(s.pages[i]!) - this.trueNow()));
    };
    next();
  }

  async close(): Promise<void> {
    for (const r of this.sockets) r.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
