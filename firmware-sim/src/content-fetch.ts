/**
 * Fetching the files a ContentStore (content.ts, which builds on this class) lacks: one job per file, started at once, retried with exponential back-off and
 * jitter while some item still needs the file, resumed with `Range` from the partial file after a failure, and
 * verified before it is handed to the store. Power and link loss abort requests but keep partial files.
 *
 * The simulation shortcuts live here too: `mode: 'assume'` counts a file as verified after `assumeDelayMs` without
 * any HTTP, and `sharedDownloads` lets a cluster take a file another cluster sharing the ContentCache verified (or is
 * downloading).
 */
import type { ContentHooks, ContentStoreOptions, DownloadFailure, Job, PartialFile } from './content-types.ts';
import { download } from './content-http.ts';
import { assemble, flipByte, verifyContent } from './content-verify.ts';

// Collections are created on first use: a fleet of 10,000 idle clusters should not carry 30,000 empty ones.
const NO_JOBS: ReadonlyMap<string, Job> = new Map();

export abstract class ContentFetcher {
  /** Partial downloads ("temporary files"), kept across reboots and link loss for Range resume. */
  protected partial: Map<string, PartialFile> | null = null;
  private jobMap: Map<string, Job> | null = null;
  private active = false;
  /** Fault knobs (ContentStore sets them). */
  protected corruptNext = false;
  protected extraDelayMs = 0;
  private warnedNoUrl = false;

  constructor(
    protected readonly o: ContentStoreOptions,
    protected readonly h: ContentHooks,
  ) {}

  /** Hold a verified file (bytes are null when none were fetched). */
  protected abstract keep(sha: string, buf: Buffer | null): void;

  protected get jobs(): ReadonlyMap<string, Job> {
    return this.jobMap ?? NO_JOBS;
  }

  /** Start a download of `sha` now unless one is under way. */
  ensure(sha: string, size: number): void {
    const job = this.jobs.get(sha);
    if (job) {
      job.size = size;
      return;
    }
    const j: Job = { sha, size, attempt: 0, timer: null, req: null, gen: 0, slow: false };
    (this.jobMap ??= new Map()).set(sha, j);
    if (this.active) this.schedule(j, 0);
  }

  /** Forget `sha`: its download and its partial file. */
  drop(sha: string): void {
    this.abort(sha);
    this.jobMap?.delete(sha);
    this.partial?.delete(sha);
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
    download(this.o, this.h.counters, j, base, {
      owns: () => this.jobs.get(j.sha) === j,
      part: this.partial?.get(j.sha),
      restart: () => {
        const into: PartialFile = { chunks: [], bytes: 0 };
        (this.partial ??= new Map()).set(j.sha, into);
        return into;
      },
      discard: () => void this.partial?.delete(j.sha),
      complete: (done) => this.complete(j, done),
      failed: (detail) => this.failed(j, 'download_failed', detail),
      refused: () => {
        this.h.log.warn({ clusterId: this.o.clusterId, sha256: j.sha }, 'content id refused as malformed; not retrying');
        this.jobMap?.delete(j.sha);
        this.h.result(j.sha, false, 'download_failed', 'http 400');
      },
    });
  }

  /** All bytes are in: check size and sha256, then hold the file or throw it away. */
  private complete(j: Job, done: (ok: boolean) => void): void {
    let buf = assemble(this.partial?.get(j.sha));
    if (this.corruptNext && buf.length > 0) {
      this.corruptNext = false;
      buf = flipByte(buf);
    }
    const wrong = verifyContent(buf, j.size, j.sha);
    if (wrong) {
      // Never resume from a file that failed verification: start again from byte 0.
      this.partial?.delete(j.sha);
      this.h.counters.hashMismatches++;
      done(false);
      return this.failed(j, 'hash_mismatch', wrong);
    }
    this.partial?.delete(j.sha);
    this.verified(j, buf);
    done(true);
  }

  private verified(j: Job, buf: Buffer | null): void {
    this.jobMap?.delete(j.sha);
    this.keep(j.sha, buf);
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
