/**
 * For larger fleets: the server is a source client of an existing Icecast 2 (HTTP PUT, which Icecast 2.4 accepts),
 * and clusters listen there instead of on the server. The timeline survives Icecast because it travels inside the
 * stream: the OpusTags comment LOA_EPOCH_MS sits in the header pages, which Icecast keeps and sends to every new
 * listener before its burst. Each connection starts with those header pages (a new Ogg stream to Icecast), then every
 * page as it leaves the encoder; if Icecast drops or refuses it, it reconnects with back-off (1 s doubling to 30 s).
 */
import { connect, type Socket } from 'node:net';
import type { Logger } from 'pino';

export interface IcecastPushOptions {
  /** http://host:port/mount */
  url: string;
  password: string;
  headers(): Buffer[];
  subscribe(fn: (page: { bytes: Buffer }) => void): () => void;
  log: Logger;
}

const BACKOFF_MIN_MS = 1000;
const BACKOFF_MAX_MS = 30_000;

/**
 * A raw socket rather than node:http: Icecast wants the body as a plain byte stream after its "200 OK" (no chunked
 * transfer coding, which node's client uses for a body of unknown length), and it answers before the body ends.
 */
export class IcecastPush {
  private sock: Socket | null = null;
  private off: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private backoff = BACKOFF_MIN_MS;
  /** connections opened so far (the first one included), and the ones Icecast accepted */
  connects = 0;
  accepted = 0;

  constructor(private readonly o: IcecastPushOptions) {}

  start(): void {
    if (this.stopped || this.sock) return;
    const u = new URL(this.o.url);
    this.connects++;
    const sock = connect({ host: u.hostname, port: Number(u.port || 80), noDelay: true });
    this.sock = sock;
    let dropped = false;
    let healthy: NodeJS.Timeout | undefined;
    const drop = (why: string) => {
      if (dropped) return;
      dropped = true;
      clearTimeout(healthy);
      this.off?.();
      this.off = null;
      if (this.sock === sock) this.sock = null;
      sock.destroy();
      if (this.stopped) return;
      this.o.log.warn({ mount: u.pathname, why, retryMs: this.backoff }, 'icecast source connection lost; retrying');
      this.timer = setTimeout(() => this.start(), this.backoff);
      this.timer.unref();
      this.backoff = Math.min(this.backoff * 2, BACKOFF_MAX_MS);
    };
    sock.on('connect', () => {
      const auth = Buffer.from(`source:${this.o.password}`).toString('base64');
      sock.write(`PUT ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\nAuthorization: Basic ${auth}\r\nUser-Agent: loa-xa\r\n` +
        `Content-Type: audio/ogg\r\nIce-Public: 0\r\nIce-Name: ${u.pathname.slice(1)}\r\n\r\n`);
    });
    let head = '';
    sock.on('data', (d: Buffer) => {
      if (this.off) return; // Icecast says nothing more once streaming
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
      if (status < 200 || status >= 300) return drop(`HTTP ${status || 'garbled'}: ${head.split('\r\n')[0]}`);
      this.accepted++;
      for (const h of this.o.headers()) sock.write(h);
      this.off = this.o.subscribe((p) => {
        if (!sock.destroyed) sock.write(p.bytes);
      });
      // A connection that has carried pages for a while is healthy again: the next drop retries quickly.
      healthy = setTimeout(() => (this.backoff = BACKOFF_MIN_MS), 10_000);
      healthy.unref();
    });
    sock.on('error', (err) => drop(err.message));
    sock.on('close', () => drop('closed'));
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.off?.();
    this.off = null;
    this.sock?.destroy();
    this.sock = null;
  }
}
