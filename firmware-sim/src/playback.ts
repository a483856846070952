/**
 * Broadcasting, device side (protocol v1.1, docs/device-protocol.md §10; v1.2 live streams): the versioned manifest,
 * group play orders, content, and a simulated player that airs one programme at a time with the levels of Circular
 * 39/2020/TT-BTTTT. Every state change of an airing is reported on `airing` through the outbox.
 *
 * Playback is what the cluster talks to. It applies manifests and group play orders to the items held
 * (manifest-store.ts) and fetches their files (content.ts); the scheduler (airing-scheduler.ts) decides what airs
 * when, by the rules of airing-rules.ts, and the player (player.ts) airs it; airing-report.ts writes the reports.
 */
import type { GroupPlay, Manifest, PlayItem } from '../../schemas/device-protocol/index.ts';
import { AiringReporter } from './airing-report.ts';
import { serverNow } from './airing-rules.ts';
import { AiringScheduler } from './airing-scheduler.ts';
import { ContentStore } from './content.ts';
import type { ContentStoreOptions, DownloadFailure } from './content-types.ts';
import { ManifestStore } from './manifest-store.ts';
import type { Held, NowPlaying, PlaybackHost, PlaybackOptions } from './playback-types.ts';

export type { NowPlaying, PlaybackHost, PlaybackOptions, PlaybackRecord } from './playback-types.ts';

export class Playback {
  readonly content: ContentStore;
  private readonly reporter: AiringReporter;
  private readonly store: ManifestStore;
  private readonly airings: AiringScheduler;

  constructor(
    private readonly h: PlaybackHost,
    content: ContentStoreOptions,
    opts: PlaybackOptions = {},
  ) {
    this.reporter = new AiringReporter(h);
    this.content = new ContentStore(content, {
      log: h.log,
      counters: h.counters,
      needed: (sha) => this.store.needed(sha),
      result: (sha, ok, reason, detail) => this.onContent(sha, ok, reason, detail),
    });
    this.store = new ManifestStore(h, this.reporter);
    this.airings = new AiringScheduler(h, this.store, this.content, this.reporter, opts.syncWindowMs ?? 2000, {
      clusterId: content.clusterId,
      secret: content.secret,
      httpUrl: content.httpUrl,
      ca: content.ca,
      rejectUnauthorized: content.rejectUnauthorized,
      random: content.random,
      linkUp: content.linkUp,
    });
  }

  // ---- observability -----------------------------------------------------------------------------------------

  get manifestVersion(): number {
    return this.store.version;
  }

  /** Items held (not yet over), in arrival order. */
  get items(): PlayItem[] {
    return this.store.items;
  }

  get nowPlaying(): NowPlaying | null {
    return this.airings.player.nowPlaying;
  }

  // ---- inbound -----------------------------------------------------------------------------------------------

  onManifest(m: Manifest): void {
    const store = this.store;
    if (m.baseVersion === 0) {
      // A full snapshot: drop every item not listed.
      const listed = new Set(m.items.map((i) => i.id));
      for (const x of [...store.values()]) if (!listed.has(x.item.id)) this.airings.remove(x, 'removed');
      for (const item of m.items) this.accept(item);
    } else if (m.baseVersion === m.version && m.items.length === 0 && m.removed.length === 0 && m.version === store.version) {
      // "You are current at `version`": nothing to apply. (Held less: the branch below asks for what was missed.)
      this.h.counters.manifestsCurrent++;
      return;
    } else if (m.baseVersion > store.version) {
      // One update was missed: applying this one would leave a hole. Ask for what changed since what we hold.
      this.h.counters.manifestGaps++;
      this.h.requestManifest(store.version);
      return;
    } else if (m.version <= store.version) {
      // Already applied (a redelivery) or older than what we hold.
      this.h.counters.manifestsIgnored++;
      return;
    } else {
      for (const item of m.items) this.accept(item);
      for (const id of m.removed) {
        const x = store.get(id);
        if (x) this.airings.remove(x, 'removed');
        else store.removedUnheld(id);
      }
    }
    store.version = m.version;
    this.h.counters.manifestsApplied++;
    store.prune();
    this.tick();
  }

  onGroupPlay(g: GroupPlay): void {
    if (g.op === 'play') this.accept(g.item);
    else {
      this.store.cancelBroadcast(g.broadcastId);
      for (const x of [...this.store.values()]) if (x.item.broadcastId === g.broadcastId) this.airings.remove(x, 'cancelled');
    }
    this.tick();
  }

  /** Add an item or update the one with its id. An id already aired (or dropped) is never aired again. */
  private accept(item: PlayItem): void {
    if (this.store.refuses(item)) {
      this.h.counters.itemsIgnored++;
      return;
    }
    const x = this.store.get(item.id);
    if (x) return this.update(x, item);
    const n = this.store.add(item);
    this.h.counters.itemsReceived++;
    this.reporter.report(n, 0, 'received');
    const t = serverNow(this.h);
    if (t.trusted && t.s > item.expiresAt) n.arrivedExpired = true;
    else this.fetch(n);
    this.h.itemAccepted(item);
  }

  /** A new version of an item held: a new file is fetched (the old one goes if nothing else plays it). */
  private update(x: Held, item: PlayItem): void {
    const oldSha = x.item.content?.sha256;
    x.item = item;
    if (oldSha !== item.content?.sha256) {
      x.downloaded = null;
      x.failReason = null;
      if (oldSha) this.airings.releaseIfUnused(oldSha);
      if (!x.arrivedExpired) this.fetch(x);
    }
    if (x.next >= item.repeat.count && this.airings.player.airing !== x && !x.suspended) this.airings.retire(x);
    this.h.itemAccepted(item);
  }

  // ---- content -----------------------------------------------------------------------------------------------

  /**
   * A file item's file is fetched at once. A stream item (v1.2) has nothing to fetch: it reports `received` only —
   * no `downloaded` — and is ready to air as soon as it is due (stream-player.ts says what it reports then).
   */
  private fetch(x: Held): void {
    if (!x.item.content) return;
    const { sha256, size } = x.item.content;
    this.content.ensure(sha256, size);
    if (this.content.has(sha256)) this.onContent(sha256, true);
  }

  private onContent(sha: string, ok: boolean, reason?: DownloadFailure, detail?: string): void {
    this.store.contentResult(sha, ok, reason, detail);
    if (ok) this.tick();
  }

  // ---- power -------------------------------------------------------------------------------------------------

  /** Boot: carry on with what flash holds. */
  powerUp(): void {
    this.airings.powerUp();
    this.content.resume();
    this.tick();
  }

  /**
   * Reboot: the airing in progress is interrupted (reported, then resumed, restarted or dropped after boot as its
   * onPreempt says). With `silent` (power off for good, or a clean stop) nothing is reported.
   */
  powerDown(silent = false): void {
    this.airings.powerDown(silent);
    this.content.pause();
  }

  /** The radio link went: downloads and a live stream's connection die with it. */
  linkLost(): void {
    this.content.linkLost();
    this.airings.player.linkLost();
  }

  /** Playout figures of a stream item that went on air, or null. */
  streamStats(itemId: string) {
    return this.airings.player.streamStats(itemId);
  }

  /** The measured offset changed: targets move with it. */
  onOffset(): void {
    this.tick();
  }

  tick(): void {
    this.airings.tick();
  }

  /** Power off for good: no timers, no downloads. */
  halt(): void {
    this.powerDown(true);
  }
}
