/**
 * One HTTP attempt at a live stream (protocol v1.2): GET `stream.url` — absolute, or resolved against the HTTP base
 * URL content is fetched from — with the device's own Basic credentials, reading the chunked body as it comes.
 * Retries and what the bytes mean belong to the caller (stream-airing.ts); this file only speaks HTTP.
 */
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { STREAM_EPOCH_HEADER } from '../../schemas/device-protocol/index.ts';

/** What a stream connection needs from its cluster (a subset of the content options). */
export interface StreamHttpOptions {
  clusterId: string;
  secret: string;
  httpUrl?: string;
  ca?: string | Buffer | Array<string | Buffer>;
  rejectUnauthorized?: boolean;
  random: () => number;
  /** The radio link is up (HTTP shares it with MQTT). */
  linkUp(): boolean;
}

export interface StreamHandlers {
  /** 200: the body follows. `epochMs` from the `loa-stream-epoch` header, null if absent. */
  open(epochMs: number | null): void;
  data(chunk: Buffer): void;
  /** The body ended cleanly. */
  end(): void;
  /** No stream: an error status, a refused or dropped connection, a timeout. Called at most once, never after end. */
  error(detail: string): void;
}

/** No byte for this long on an open stream: the connection is dead (a live stream sends a page every ~20–100 ms). */
const IDLE_TIMEOUT_MS = 5000;

export function streamUrl(url: string, base: string | undefined): URL {
  if (/^https?:\/\//i.test(url)) return new URL(url);
  if (!base) throw new Error('no HTTP base URL (httpUrl) for a relative stream url');
  return new URL(url.replace(/^\/+/, ''), base.endsWith('/') ? base : base + '/');
}

/** Open the stream; the returned function closes it (no handler is called after that). */
export function openStream(o: StreamHttpOptions, url: string, hs: StreamHandlers): () => void {
  let over = false;
  const finish = (fn: () => void) => {
    if (over) return;
    over = true;
    fn();
  };
  let req: ClientRequest | null = null;
  const close = () => {
    over = true;
    req?.destroy();
  };
  let target: URL;
  try {
    if (!o.linkUp()) throw new Error('link down');
    target = streamUrl(url, o.httpUrl);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    req = send(target, {
      method: 'GET',
      headers: {
        authorization: 'Basic ' + Buffer.from(`${o.clusterId}:${o.secret}`).toString('base64'),
        accept: 'audio/ogg',
      },
      ...(o.ca !== undefined ? { ca: o.ca } : {}),
      ...(o.rejectUnauthorized !== undefined ? { rejectUnauthorized: o.rejectUnauthorized } : {}),
    });
  } catch (err) {
    const detail = (err as Error).message;
    queueMicrotask(() => finish(() => hs.error(detail)));
    return close;
  }
  const r = req;
  r.setTimeout(IDLE_TIMEOUT_MS, () => r.destroy(new Error('timeout')));
  r.on('error', (err) => finish(() => hs.error(err.message)));
  r.on('response', (res: IncomingMessage) => {
    if (over) return void res.resume();
    const status = res.statusCode ?? 0;
    if (status !== 200) {
      res.resume();
      return finish(() => hs.error(`http ${status}`));
    }
    const h = Number(res.headers[STREAM_EPOCH_HEADER]);
    hs.open(res.headers[STREAM_EPOCH_HEADER] !== undefined && Number.isFinite(h) ? h : null);
    res.on('data', (chunk: Buffer) => {
      if (!over) hs.data(chunk);
    });
    res.on('end', () => finish(() => hs.end()));
    res.on('error', (err) => finish(() => hs.error(err.message)));
    res.on('close', () => finish(() => hs.error('connection closed mid-stream')));
  });
  r.end();
  return close;
}
