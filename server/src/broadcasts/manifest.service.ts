import type { Manifest, PlayItem } from '../../../schemas/device-protocol/playback.ts';
import { deviceTopic } from '../../../schemas/device-protocol/topics.ts';
import type { Publisher } from '../mqtt/publisher.ts';
import type { Clock } from '../shared/clock.ts';
import type { ManifestChange, ManifestsRepo } from './manifests.repo.ts';

const MAX_DELTA_ITEMS = 500;

/**
 * Each cluster's store-and-forward manifest: what it must air in the next 48 h. Every change bumps the cluster's
 * version and stamps the changed item (removals stay as tombstones), so a reconnecting device that reports
 * version V gets exactly the items with rev > V.
 *
 * The database assigns the versions (ManifestsRepo.write bumps the stored one in the transaction that writes the
 * items), so instances sharing it never stamp one version twice nor send one that went backwards; within this
 * process, changes and deltas still run one at a time (`exclusive`), in the order they were asked for.
 */
export class ManifestService {
  /** The version last published to each cluster by this process. */
  private sent = new Map<string, number>();
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private repo: ManifestsRepo,
    private publisher: Publisher,
    private clock: Clock,
    /** Runs deferred manifest writes (a fan-out's) before anything reads a manifest. */
    private settle: () => Promise<void> = async () => undefined,
  ) {}

  /** Runs `fn` once every earlier exclusive call has ended. Never call it from inside `fn`, nor settle() inside it. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  async version(clusterId: string): Promise<number> {
    await this.settle();
    return (await this.repo.version(clusterId))?.version ?? 0;
  }

  /** Adds or replaces items, one transaction for the whole batch. Returns each cluster's new version. */
  async put(entries: { clusterId: string; item: PlayItem }[]): Promise<Map<string, number>> {
    await this.settle(); // at once when called from the deferred writes themselves
    return this.change(entries.map((e) => ({ clusterId: e.clusterId, itemId: e.item.id, broadcastId: e.item.broadcastId, item: e.item, removed: false })));
  }

  /** Drops every item of a broadcast from the given clusters (tombstones). */
  async removeBroadcast(clusterIds: string[], broadcastId: string): Promise<Map<string, number>> {
    await this.settle();
    const rows = await this.repo.itemsOfBroadcast(broadcastId);
    const wanted = new Set(clusterIds);
    return this.change(rows.filter((r) => wanted.has(r.clusterId)).map((r) => ({ clusterId: r.clusterId, itemId: r.itemId, broadcastId, item: r.item as PlayItem, removed: true })));
  }

  /** Callers settle deferred writes first; that happens before, not inside, this change's transaction. */
  private change(rows: Omit<ManifestChange, 'rev'>[]): Promise<Map<string, number>> {
    // stored with the items before anyone can publish it
    return this.exclusive(() => this.repo.write(rows));
  }

  /**
   * What a device holding `since` needs; a snapshot when `since` is unknown, ahead, or older than the tombstones.
   * A device already at the current version gets an empty delta with `baseVersion` = `version`: "you are current".
   */
  async delta(clusterId: string, since: number): Promise<Manifest> {
    await this.settle();
    return this.exclusive(async () => {
      // A device ahead of the server (its store was lost or restored) gets a snapshot above what it holds.
      // Whatever the server sends carries a version it has stored, so an empty snapshot sent before the first item
      // is version 1 and the first item version 2: different contents never share a version, across restarts too.
      const ahead = since > ((await this.repo.version(clusterId))?.version ?? 0);
      const { version, floor } = await this.repo.raise(clusterId, ahead ? since + 1 : 1);
      if (since === version) return { version, baseVersion: version, items: [], removed: [] };
      const now = this.clock.now();
      const snapshot = since <= 0 || ahead || since < floor;
      // items another instance stamped after `version` was read wait for the next delta
      const rows = (await this.repo.items(clusterId, snapshot ? undefined : since)).filter((r) => r.rev <= version);
      const live = rows.filter((r) => !r.removed && r.expiresAt > now).slice(-MAX_DELTA_ITEMS);
      return {
        version,
        baseVersion: snapshot ? 0 : since,
        items: live.map((r) => r.item as PlayItem),
        removed: snapshot ? [] : rows.filter((r) => r.removed).map((r) => r.itemId).slice(-MAX_DELTA_ITEMS),
      };
    });
  }

  /** Answers a birth or a `manifest/req`: always one publish — a delta, a snapshot, or "you are current". */
  async push(clusterId: string, since: number): Promise<void> {
    await (await this.send(clusterId, since)).published;
  }

  /**
   * `push`, resolved once the manifest is read and handed to the publisher, with the publish still under way
   * (`published`): a fan-out's bookkeeping waits for the first part only, not for the broker.
   */
  async send(clusterId: string, since: number): Promise<{ published: Promise<void> }> {
    const m = await this.delta(clusterId, since);
    this.sent.set(clusterId, m.version);
    return { published: this.publisher.publish(deviceTopic(clusterId, 'manifest'), Buffer.from(JSON.stringify(m)), { qos: 1 }) };
  }

  /**
   * A cluster has just been granted a group's `play` topic. Group orders published before that missed it, and a
   * cluster a group covers gets no manifest push of its own (Delivery): a cluster that learnt its groups only from
   * the config answering its birth would hold at the birth's version, online, without the item (or with a cancelled
   * one). So it gets what changed since the last manifest sent to it, if anything did.
   */
  async catchUp(clusterId: string): Promise<void> {
    const last = this.sent.get(clusterId);
    if (last === undefined || (await this.version(clusterId)) <= last) return;
    await this.push(clusterId, last);
  }

  /**
   * Whether an item still to air — not removed, not expired — has this content, in the manifest of `clusterId` or,
   * without one, of any cluster. A device may fetch only such content, and its file is kept while any item has it.
   */
  async holdsContent(sha256: string, clusterId?: string): Promise<boolean> {
    await this.settle(); // an emergency's rows are written just after its group publish: a device may ask before that
    return this.repo.holdsContent(sha256, this.clock.now(), clusterId);
  }

  /** Whether this cluster holds an item of this stream URL still to air (not removed, not expired): it may listen. */
  async holdsStream(url: string, clusterId: string): Promise<boolean> {
    await this.settle();
    return this.repo.holdsStream(url, clusterId, this.clock.now());
  }

  /** Forgets expired items and old tombstones; devices older than the pruned tombstones get a snapshot next time. */
  async prune(graceMs = 3_600_000): Promise<number> {
    await this.settle();
    const cutoff = this.clock.now() - graceMs;
    return this.exclusive(() => this.repo.prune(cutoff));
  }
}
