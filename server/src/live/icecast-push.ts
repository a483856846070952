/**
 * For larger fleets: the server is a source client of an existing Icecast 2 (HTTP PUT, as Icecast 2.4 accepts), and
 * clusters listen there. The epoch travels inside the stream (the OpusTags comment), so the timeline survives
 * Icecast, which passes the header pages to every new listener. Reconnects with back-off if Icecast drops it.
 */
import { request, type ClientRequest } from 'node:http';
import type { Logger } from 'pino';

export interface IcecastPushOptions {
  url: string;
  password: string;
  headers(): Buffer[];
  subscribe(fn: (page: { bytes: Buffer }) => void): () => void;
  log: Logger;
}

export class IcecastPush {
  private req: ClientRequest | null = null;
  private off: (() => void) | null = null;
  private stopped = false;
  private backoff = 1000;

  constructor(private o: IcecastPushOptions) {}

  start(): void {
    if (this.stopped) return;
    const u = new URL(this.o.url);
    const req = request(u, {
      method: 'PUT',
      headers: { authorization: `Basic ${Buffer.from(`source:${this.o.password}`).toString('base64')}`, 'content-type': 'audio/ogg', 'ice-public': '0', expect: '' },
    });
    this.req = req;
    for (const h of this.o.headers()) req.write(h);
    this.off = this.o.subscribe((p) => req.write(p.bytes));
    const again = (why: string) => {
      if (this.req !== req) return;
      this.off?.();
      this.req = null;
      if (this.stopped) return;
      this.o.log.warn({ url: u.pathname, why }, 'icecast source connection lost; retrying');
      setTimeout(() => this.start(), this.backoff).unref();
      this.backoff = Math.min(this.backoff * 2, 30_000);
    };
    req.on('response', (res) => {
      if (res.statusCode && res.statusCode >= 300) again(`HTTP ${res.statusCode}`);
      else this.backoff = 1000;
      res.resume();
    });
    req.on('error', (err) => again(err.message));
    req.on('close', () => again('closed'));
  }

  stop(): void {
    this.stopped = true;
    this.off?.();
    this.req?.end();
    this.req = null;
  }
}
