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
