/**
 * Content a cluster must hold before it can air an item: audio files addressed by sha256, fetched over HTTP from
 * `{http}/api/device/content/{sha256}` with the device's own Basic credentials (docs/device-protocol.md §9).
 *
 * What firmware must do and this store does: download at once, resume a partial file with `Range` after a failure
 * (a 200 answer to a range request restarts from byte 0), verify size and sha256 before use, delete a file that
 * fails verification and start again from byte 0, retry with exponential back-off and jitter while some item still
 * needs the file, and keep verified files (and partial ones) across reboots.
 *
 * This class holds the verified files and builds on ContentFetcher (content-fetch.ts), which fetches the missing
 * ones (jobs, back-off, partial files); content-http.ts makes each HTTP attempt and content-verify.ts checks what
 * arrived.
 *
 * Simulation shortcuts, for fleets: a ContentCache can be shared by every cluster of a SimFleet so one Buffer per
 * sha256 is held in memory however many clusters hold the file; `sharedDownloads` lets clusters skip their own
 * HTTP download when another cluster already verified the file; `mode: 'assume'` skips HTTP altogether and treats
 * the file as present after `assumeDelayMs` (what a 10,000-cluster benchmark wants: the server's content endpoint
 * is not what it measures).
 */
import { ContentFetcher } from './content-fetch.ts';

export { ContentCache } from './content-cache.ts';
export type { ContentFetchMode, ContentHooks, ContentRetryOptions, ContentStoreOptions, DownloadFailure } from './content-types.ts';

export class ContentStore extends ContentFetcher {
  /** Files verified and held by this cluster ("flash"), kept across reboots. */
  private held: Set<string> | null = null;

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
  override ensure(sha: string, size: number): void {
    if (this.has(sha)) return;
    super.ensure(sha, size);
  }

  /** No item needs `sha` any more: free it (and any partial file or download). */
  override drop(sha: string): void {
    super.drop(sha);
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

  /** A file was verified: hold it once. */
  protected keep(sha: string, buf: Buffer | null): void {
    if (this.has(sha)) return;
    (this.held ??= new Set()).add(sha);
    this.o.cache.hold(sha, buf);
  }
}
