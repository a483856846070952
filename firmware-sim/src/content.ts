/**
 * Content a cluster must hold before it can air an item: audio files addressed by sha256, fetched over HTTP from
 * `{http}/api/device/content/{sha256}` with the device's own Basic credentials (docs/device-protocol.md §9).
 *
 * What firmware must do and this store does: download at once, resume a partial file with `Range` after a failure
 * (a 200 answer to a range request restarts from byte 0), verify size and sha256 before use, delete a file that
 * fails verification and start again from byte 0, retry with exponential back-off and jitter while some item still
 * needs the file, and keep verified files (and partial ones) across reboots.
 *
 * Simulation shortcuts, for fleets: a ContentCache can be shared by every cluster of a SimFleet so one Buffer per
 * sha256 is held in memory however many clusters hold the file; `sharedDownloads` lets clusters skip their own
 * HTTP download when another cluster already verified the file; `mode: 'assume'` skips HTTP altogether and treats
 * the file as present after `assumeDelayMs` (what a 10,000-cluster benchmark wants: the server's content endpoint
 * is not what it measures).
 */
import { createHash } from 'node:crypto';
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { SimCounters } from './cluster-types.ts';
import type { Cancel, Scheduler } from './scheduler.ts';
import type { Logger } from './types.ts';

export type ContentFetchMode = 'http' | 'assume';
export type DownloadFailure = 'hash_mismatch' | 'download_failed';

export interface ContentRetryOptions {
  /** First retry delay. Default 2000. */
  initialMs?: number;
  /** Longest retry delay. Default 60000. */
  maxMs?: number;
  /** ± fraction applied to each delay. Default 0.3. */
  jitter?: number;
}

/**
 * Verified content by sha256. A cluster keeps its own by default; a SimFleet shares one across its clusters, so a
 * file held by 10,000 clusters is one Buffer. Each holder counts once; the bytes go when the last holder lets go.
 */
export class ContentCache {
  private entries = new Map<string, { buf: Buffer | null; holders: number }>();
  /** Downloads under way, for clusters that share downloads (sharedDownloads). Resolves true once verified. */
  readonly inflight = new Map<string, Promise<boolean>>();

  /** Record one more holder of `sha`; `buf` is kept unless the cache already has the bytes. */
  hold(sha: string, buf: Buffer | null): void {
    const e = this.entries.get(sha);
    if (e) {
      e.holders++;
      if (!e.buf && buf) e.buf = buf;
    } else this.entries.set(sha, { buf, holders: 1 });
  }

  release(sha: string): void {
    const e = this.entries.get(sha);
    if (!e) return;
    if (--e.holders <= 0) this.entries.delete(sha);
  }

  /** True if some holder has verified `sha` (with or without bytes, see mode 'assume'). */
  has(sha: string): boolean {
    return this.entries.has(sha);
  }

  get(sha: string): Buffer | undefined {
    return this.entries.get(sha)?.buf ?? undefined;
  }

  get files(): number {
    return this.entries.size;
  }

  get bytes(): number {
    let n = 0;
    for (const e of this.entries.values()) n += e.buf?.length ?? 0;
    return n;
  }
}

/** What a ContentStore needs from its cluster. */
export interface ContentHooks {
  log: Logger;
  counters: SimCounters;
  /** Some item that has not expired still needs `sha`; otherwise retrying stops. */
  needed(sha: string): boolean;
  /** A download ended: verified (`ok`), or failed with a reason (a retry is scheduled if still needed). */
  result(sha: string, ok: boolean, reason?: DownloadFailure, detail?: string): void;
}

export interface ContentStoreOptions {
  clusterId: string;
  secret: string;
  mode: ContentFetchMode;
  /** Server base URL, e.g. http://127.0.0.1:8080. Required for mode 'http'. */
  httpUrl?: string;
  cache: ContentCache;
  sharedDownloads: boolean;
  assumeDelayMs: number;
  retry: Required<ContentRetryOptions>;
  /** Idle socket timeout per request. */
  timeoutMs: number;
  ca?: string | Buffer | Array<string | Buffer>;
  rejectUnauthorized?: boolean;
  sched: Scheduler;
  random: () => number;
  /** The radio link is up (HTTP shares it with MQTT). */
  linkUp(): boolean;
}

interface Job {
  sha: string;
  size: number;
  attempt: number;
  timer: Cancel | null;
  req: ClientRequest | null;
  /** Bumped to disown the callbacks of an aborted attempt. */
  gen: number;
  /** Longest back-off next time (401: the credential will not fix itself). */
  slow: boolean;
}

interface Partial {
  chunks: Buffer[];
  bytes: number;
}

// Collections are created on first use: a fleet of 10,000 idle clusters should not carry 30,000 empty ones.
const NO_JOBS: ReadonlyMap<string, Job> = new Map();

export class ContentStore {
  /** Files verified and held by this cluster ("flash"), kept across reboots. */
  private held: Set<string> | null = null;
  /** Partial downloads ("temporary files"), kept across reboots and link loss for Range resume. */
  private partial: Map<string, Partial> | null = null;
  private jobMap: Map<string, Job> | null = null;
  private active = false;
  private corruptNext = false;
  private extraDelayMs = 0;
  private warnedNoUrl = false;

  constructor(
    private readonly o: ContentStoreOptions,
    private readonly h: ContentHooks,
  ) {}

  private get jobs(): ReadonlyMap<string, Job> {
    return this.jobMap ?? NO_JOBS;
  }

  has(sha: string): boolean {
    return this.held?.has(sha) ?? false;
  }

  /** The verified bytes (null in mode 'assume', which never fetches them). */
  bytes(sha: string): Buffer | null {
    return this.has(sha) ? (this.o.cache.get(sha) ?? null) : null;
  }

  get heldFiles(): string[] {
    return this.held ? [...this.held] : [];
  }

  /** Bytes of partial downloads held for resume. */
  partialBytes(sha: string): number {
    return this.partial?.get(sha)?.bytes ?? 0;
  }

  get downloading(): string[] {
    return [...this.jobs.keys()];
  }

  /** Make sure `sha` is (or will be) held: start a download now unless one is under way. */
  ensure(sha: string, size: number): void {
    if (this.has(sha)) return;
    const job = this.jobs.get(sha);
    if (job) {
      job.size = size;
      return;
    }
    const j: Job = { sha, size, attempt: 0, timer: null, req: null, gen: 0, slow: false };
    (this.jobMap ??= new Map()).set(sha, j);
    if (this.active) this.schedule(j, 0);
  }

  /** No item needs `sha` any more: free it (and any partial file or download). */
  drop(sha: string): void {
    this.abort(sha);
    this.jobMap?.delete(sha);
    this.partial?.delete(sha);
    if (this.held?.delete(sha)) this.o.cache.release(sha);
  }

  /** The next download that completes gets one byte flipped, so its sha256 verification fails. */
  corruptNextDownload(): void {
    this.corruptNext = true;
  }

  /** Every download (or assumed fetch) starts `ms` later than it would: a slow or congested link. */
  setFetchDelay(ms: number): void {
    this.extraDelayMs = Math.max(0, ms);
  }

  get fetchDelayMs(): number {
    return this.extraDelayMs;
  }

  /** Power on (or link back): start what is waiting. */
  resume(): void {
    this.active = true;
    for (const j of this.jobs.values()) if (!j.timer && !j.req) this.schedule(j, 0);
  }

  /** Power off or reboot: requests die with the modem, partial files stay. */
  pause(): void {
    this.active = false;
    for (const sha of this.jobs.keys()) this.abort(sha);
  }

  /** The radio link is back: downloads waiting out a back-off try again now. */
  linkRestored(): void {
    if (!this.active) return;
    for (const j of this.jobs.values()) if (!j.req && j.timer) this.schedule(j, 0);
  }

  /** The radio link went away: requests in flight fail now (and are retried with back-off). */
  linkLost(): void {
    for (const j of this.jobs.values()) {
      if (!j.req) continue;
      this.abort(j.sha);
      this.failed(j, 'download_failed', 'link lost');
    }
  }

  private abort(sha: string): void {
    const j = this.jobs.get(sha);
    if (!j) return;
    j.gen++;
    j.timer?.();
    j.timer = null;
    const req = j.req;
    j.req = null;
    if (req) req.destroy();
  }

  private schedule(j: Job, delayMs: number): void {
    j.timer?.();
    const total = delayMs + this.extraDelayMs;
    j.timer = this.o.sched.after(total, () => {
      j.timer = null;
      this.attempt(j);
    });
  }

  private attempt(j: Job): void {
    if (!this.active || this.jobs.get(j.sha) !== j) return;
    if (!this.h.needed(j.sha)) {
      this.jobMap?.delete(j.sha);
      return;
    }
    if (this.o.sharedDownloads && this.o.cache.has(j.sha)) return this.verified(j, null);
    if (!this.o.linkUp()) return this.failed(j, 'download_failed', 'link down');
    if (this.o.mode === 'assume') {
      const gen = ++j.gen;
      j.timer = this.o.sched.after(this.o.assumeDelayMs, () => {
        j.timer = null;
        if (gen !== j.gen || !this.active) return;
        if (!this.o.linkUp()) return this.failed(j, 'download_failed', 'link down');
        this.verified(j, null);
      });
      return;
    }
    if (this.o.sharedDownloads) {
      const other = this.o.cache.inflight.get(j.sha);
      if (other) {
        const gen = ++j.gen;
        void other.then((ok) => {
          if (gen !== j.gen || !this.active) return;
          if (ok && this.o.cache.has(j.sha)) this.verified(j, null);
          else this.failed(j, 'download_failed', 'shared download failed');
        });
        return;
      }
    }
    this.download(j);
  }

  private download(j: Job): void {
    const base = this.o.httpUrl;
    if (!base) {
      if (!this.warnedNoUrl) this.h.log.warn({ clusterId: this.o.clusterId }, 'no HTTP base URL (httpUrl): content cannot be fetched');
      this.warnedNoUrl = true;
      return this.failed(j, 'download_failed', 'no http url');
    }
    let settle: ((ok: boolean) => void) | null = null;
    if (this.o.sharedDownloads) {
      const p = new Promise<boolean>((r) => (settle = r));
      this.o.cache.inflight.set(j.sha, p);
      void p.then(() => this.o.cache.inflight.get(j.sha) === p && this.o.cache.inflight.delete(j.sha));
    }
    const done = (ok: boolean) => {
      const s = settle;
      settle = null;
      s?.(ok);
    };
    const gen = ++j.gen;
    const part = this.partial?.get(j.sha);
    const from = part?.bytes ?? 0;
    const url = new URL(`api/device/content/${j.sha}`, base.endsWith('/') ? base : base + '/');
    const headers: Record<string, string> = {
      authorization: 'Basic ' + Buffer.from(`${this.o.clusterId}:${this.o.secret}`).toString('base64'),
      accept: 'application/octet-stream',
    };
    if (from > 0) headers.range = `bytes=${from}-`;
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    this.h.counters.downloads++;
    let req: ClientRequest;
    try {
      req = request(url, {
        method: 'GET',
        headers,
        ...(this.o.ca !== undefined ? { ca: this.o.ca } : {}),
        ...(this.o.rejectUnauthorized !== undefined ? { rejectUnauthorized: this.o.rejectUnauthorized } : {}),
      });
    } catch (err) {
      done(false);
      return this.failed(j, 'download_failed', (err as Error).message);
    }
    j.req = req;
    const mine = () => gen === j.gen && this.jobs.get(j.sha) === j;
    req.setTimeout(this.o.timeoutMs, () => req.destroy(new Error('timeout')));
    let responded = false;
    req.on('error', (err) => {
      if (responded) return; // the response handlers deal with a body that broke off
      done(false);
      if (!mine()) return;
      j.req = null;
      this.failed(j, 'download_failed', err.message);
    });
    req.on('response', (res: IncomingMessage) => {
      responded = true;
      if (!mine()) return void res.resume();
      const status = res.statusCode ?? 0;
      let into: Partial | null = null;
      if (status === 200) {
        // The whole file: a range we asked for was ignored, so whatever we held is discarded.
        into = { chunks: [], bytes: 0 };
        (this.partial ??= new Map()).set(j.sha, into);
      } else if (status === 206) {
        const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(String(res.headers['content-range'] ?? ''));
        if (!m || Number(m[1]) !== from || !part) {
          this.partial?.delete(j.sha);
          res.resume();
          j.req = null;
          done(false);
          return this.failed(j, 'download_failed', `unexpected Content-Range ${res.headers['content-range'] ?? '(none)'}`);
        }
        into = part;
      }
      if (!into) {
        res.resume();
        res.on('end', () => {
          if (!mine()) return done(false);
          j.req = null;
          if (status === 416 && part) {
            // The range starts at or beyond the end: what we hold is complete (or corrupt) — verify it.
            return this.complete(j, done);
          }
          done(false);
          if (status === 401) j.slow = true;
          if (status === 400) {
            this.h.log.warn({ clusterId: this.o.clusterId, sha256: j.sha }, 'content id refused as malformed; not retrying');
            this.jobMap?.delete(j.sha);
            return this.h.result(j.sha, false, 'download_failed', 'http 400');
          }
          this.failed(j, 'download_failed', `http ${status}`);
        });
        return;
      }
      const target = into;
      let over = false;
      res.on('data', (chunk: Buffer) => {
        if (!mine()) return;
        target.chunks.push(chunk);
        target.bytes += chunk.length;
        this.h.counters.downloadBytes += chunk.length;
        // More than the item says: not the file we want. Verification fails and the file is discarded.
        if (target.bytes > j.size) res.destroy();
      });
      res.on('end', () => {
        if (over) return;
        over = true;
        if (!mine()) return done(false);
        j.req = null;
        if (target.bytes >= j.size) return this.complete(j, done);
        done(false);
        // Truncated without an error: keep what arrived and resume from there.
        this.failed(j, 'download_failed', `short body (${target.bytes}/${j.size} bytes)`);
      });
      // The connection died mid-body (reset, timeout, link lost): the partial file keeps what arrived.
      const broken = (why: string) => {
        if (over) return;
        over = true;
        if (!mine()) return done(false);
        j.req = null;
        if (target.bytes > j.size) return this.complete(j, done);
        done(false);
        this.failed(j, 'download_failed', why);
      };
      res.on('error', (err) => broken(err.message));
      res.on('close', () => broken('connection closed mid-body'));
    });
    req.end();
  }

  /** All bytes are in: check size and sha256, then hold the file or throw it away. */
  private complete(j: Job, done: (ok: boolean) => void): void {
    const part = this.partial?.get(j.sha);
    let buf = part ? Buffer.concat(part.chunks, part.bytes) : Buffer.alloc(0);
    if (part) {
      part.chunks = [buf];
    }
    if (this.corruptNext && buf.length > 0) {
      this.corruptNext = false;
      buf = Buffer.from(buf);
      buf[buf.length >> 1] ^= 0xff;
    }
    const sizeOk = buf.length === j.size;
    const hashOk = sizeOk && createHash('sha256').update(buf).digest('hex') === j.sha;
    if (!hashOk) {
      // Never resume from a file that failed verification: start again from byte 0.
      this.partial?.delete(j.sha);
      this.h.counters.hashMismatches++;
      done(false);
      return this.failed(j, 'hash_mismatch', sizeOk ? 'sha256 differs' : `size ${buf.length}, expected ${j.size}`);
    }
    this.partial?.delete(j.sha);
    this.verified(j, buf);
    done(true);
  }

  private verified(j: Job, buf: Buffer | null): void {
    this.jobMap?.delete(j.sha);
    if (!this.has(j.sha)) {
      (this.held ??= new Set()).add(j.sha);
      this.o.cache.hold(j.sha, buf);
    }
    this.h.result(j.sha, true);
  }

  private failed(j: Job, reason: DownloadFailure, detail: string): void {
    if (this.jobs.get(j.sha) !== j) return;
    this.h.counters.downloadErrors++;
    this.h.log.debug({ clusterId: this.o.clusterId, sha256: j.sha, reason, detail }, 'content download failed');
    this.h.result(j.sha, false, reason, detail);
    if (this.jobs.get(j.sha) !== j) return; // dropped by the result handler
    if (!this.h.needed(j.sha)) {
      this.jobMap?.delete(j.sha);
      return;
    }
    const r = this.o.retry;
    const base = j.slow ? r.maxMs : Math.min(r.maxMs, r.initialMs * 2 ** Math.min(j.attempt, 20));
    j.attempt++;
    j.slow = false;
    const delay = base * (1 - r.jitter + 2 * r.jitter * this.o.random());
    if (this.active) this.schedule(j, delay);
  }
}
