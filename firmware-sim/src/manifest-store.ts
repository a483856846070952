/**
 * The play items a cluster holds (docs/device-protocol.md §10.1, §10.2): the manifest version, the items in arrival
 * order with the progress of their airings, and the ids that must never air (again) — finished, expired, removed
 * or cancelled items and cancelled broadcasts, remembered until well after they could matter. What each item's
 * content fetch means for it (`downloaded` / `failed` reports) is decided here too.
 */
import type { PlayItem } from '../../schemas/device-protocol/index.ts';
import type { AiringReporter } from './airing-report.ts';
import { serverNow } from './airing-rules.ts';
import type { DownloadFailure } from './content-types.ts';
import type { Held, PlaybackHost } from './playback-types.ts';

const TOMBSTONE_GRACE_MS = 3_600_000;
const REMOVED_KEEP_MS = 48 * 3_600_000;

/** Shared by every cluster until its first item arrives (never written to). */
const NO_ITEMS: Map<string, Held> = new Map();

export class ManifestStore {
  /** Version of the manifest held (0: none). */
  version = 0;
  private held = NO_ITEMS;
  /** Item ids that must never air (again): finished, expired, removed or cancelled; value = forget after (device ms). */
  private tombstones: Map<string, number> | null = null;
  private cancelledBroadcasts: Map<string, number> | null = null;
  private arrivals = 0;

  constructor(
    private readonly h: PlaybackHost,
    private readonly reporter: AiringReporter,
  ) {}

  /** Items held (not yet over), in arrival order. */
  get items(): PlayItem[] {
    return [...this.held.values()].map((x) => x.item);
  }

  values(): IterableIterator<Held> {
    return this.held.values();
  }

  get(id: string): Held | undefined {
    return this.held.get(id);
  }

  /** The item must not air (again): its id is over, or its broadcast was cancelled. */
  refuses(item: PlayItem): boolean {
    return !!(this.tombstones?.has(item.id) || this.cancelledBroadcasts?.has(item.broadcastId));
  }

  add(item: PlayItem): Held {
    const n: Held = {
      item,
      arrival: ++this.arrivals,
      next: 0,
      base: null,
      suspended: null,
      readySince: null,
      downloaded: null,
      failReason: null,
      arrivedExpired: false,
    };
    if (this.held === NO_ITEMS) this.held = new Map();
    this.held.set(item.id, n);
    return n;
  }

  /** A manifest removed an item not held: should it arrive later (a group play order, a redelivery), it must not air. */
  removedUnheld(id: string): void {
    if (!this.tombstones?.has(id)) (this.tombstones ??= new Map()).set(id, this.h.clock.now() + REMOVED_KEEP_MS);
  }

  cancelBroadcast(broadcastId: string): void {
    (this.cancelledBroadcasts ??= new Map()).set(broadcastId, this.h.clock.now() + REMOVED_KEEP_MS);
  }

  /** Forget an item for good (its id stays known until well after expiry). False if it was not held. */
  forget(x: Held): boolean {
    if (this.held.get(x.item.id) !== x) return false;
    this.held.delete(x.item.id);
    const off = this.h.offset() ?? 0;
    (this.tombstones ??= new Map()).set(x.item.id, x.item.expiresAt - off + TOMBSTONE_GRACE_MS);
    return true;
  }

  /** Some held item plays the file `sha`. */
  uses(sha: string): boolean {
    for (const x of this.held.values()) if (x.item.content?.sha256 === sha) return true;
    return false;
  }

  prune(): void {
    const now = this.h.clock.now();
    for (const m of [this.tombstones, this.cancelledBroadcasts]) if (m) for (const [id, until] of m) if (until < now) m.delete(id);
  }

  // ---- content -----------------------------------------------------------------------------------------------

  /** Some held item that has not expired needs `sha`. */
  needed(sha: string): boolean {
    const t = serverNow(this.h);
    for (const x of this.held.values()) {
      if (x.item.content?.sha256 !== sha || x.arrivedExpired) continue;
      if (!t.trusted || t.s <= x.item.expiresAt) return true;
    }
    return false;
  }

  /** A fetch of `sha` ended: report `downloaded` once per file, `failed` once per reason, for each item using it. */
  contentResult(sha: string, ok: boolean, reason?: DownloadFailure, detail?: string): void {
    for (const x of this.held.values()) {
      if (x.item.content?.sha256 !== sha || x.arrivedExpired) continue;
      if (ok) {
        if (x.downloaded === sha) continue;
        x.downloaded = sha;
        x.failReason = null;
        this.reporter.report(x, 0, 'downloaded');
      } else if (reason && x.failReason !== reason) {
        x.failReason = reason;
        this.h.log.debug({ clusterId: this.h.clusterId, itemId: x.item.id, reason, detail }, 'content not (yet) fetched');
        this.reporter.report(x, 0, 'failed', { reason });
      }
    }
  }
}
