import { and, eq, gt, lt, sql } from 'drizzle-orm';
import type { Manifest, PlayItem } from '../../../schemas/device-protocol/playback.ts';
import { deviceTopic } from '../../../schemas/device-protocol/topics.ts';
import type { Db } from '../db/client.ts';
import type { Statement } from 'better-sqlite3';
import { manifestItems, manifestVersions } from '../db/schema.ts';
import type { Publisher } from '../mqtt/publisher.ts';
import type { Clock } from '../shared/clock.ts';

const MAX_DELTA_ITEMS = 500;

/**
 * Each cluster's store-and-forward manifest: what it must air in the next 48 h. Every change bumps the cluster's
 * version and stamps the changed item (removals stay as tombstones), so a reconnecting device that reports
 * version V gets exactly the items with rev > V.
 */
export class ManifestService {
  private versions = new Map<string, { version: number; floor: number }>();
  /** The version last published to each cluster by this process. */
  private sent = new Map<string, number>();

  constructor(
    private db: Db,
    private publisher: Publisher,
    private clock: Clock,
    /** Runs deferred manifest writes (a fan-out's) before anything reads a manifest. */
    private settle: () => void = () => undefined,
  ) {
    for (const r of db.select().from(manifestVersions).all()) this.versions.set(r.clusterId, { version: r.version, floor: r.floor });
  }

  private prepared: { upsertItem: Statement; upsertVersion: Statement } | null = null;

  private statements() {
    return (this.prepared ??= {
      upsertItem: this.db.$client.prepare(
        `insert into manifest_items (cluster_id, item_id, broadcast_id, rev, removed, item, expires_at) values (?,?,?,?,?,?,?)
         on conflict (cluster_id, item_id) do update set rev = excluded.rev, removed = excluded.removed, item = excluded.item, expires_at = excluded.expires_at`,
      ),
      upsertVersion: this.db.$client.prepare(
        'insert into manifest_versions (cluster_id, version) values (?, ?) on conflict (cluster_id) do update set version = excluded.version',
      ),
    });
  }

  version(clusterId: string): number {
    this.settle();
    return this.versions.get(clusterId)?.version ?? 0;
  }

  /** Adds or replaces items, one transaction for the whole batch. Returns each cluster's new version. */
  put(entries: { clusterId: string; item: PlayItem }[]): Map<string, number> {
    return this.change(entries.map((e) => ({ clusterId: e.clusterId, itemId: e.item.id, broadcastId: e.item.broadcastId, item: e.item, removed: false })));
  }

  /** Drops every item of a broadcast from the given clusters (tombstones). */
  removeBroadcast(clusterIds: string[], broadcastId: string): Map<string, number> {
    this.settle();
    const rows = this.db.select().from(manifestItems).where(and(eq(manifestItems.broadcastId, broadcastId), eq(manifestItems.removed, false))).all();
    const wanted = new Set(clusterIds);
    return this.change(rows.filter((r) => wanted.has(r.clusterId)).map((r) => ({ clusterId: r.clusterId, itemId: r.itemId, broadcastId, item: r.item as PlayItem, removed: true })));
  }

  private change(rows: { clusterId: string; itemId: string; broadcastId: string; item: PlayItem; removed: boolean }[]): Map<string, number> {
    const bumped = new Map<string, number>();
    const { upsertItem, upsertVersion } = this.statements();
    // Statements prepared once and one item JSON per distinct payload: a province's emergency writes a row per
    // cluster (query building would cost ~100 µs a row).
    const json = new Map<PlayItem, string>();
    this.db.$client.transaction(() => {
      for (const r of rows) {
        const v = bumped.get(r.clusterId) ?? this.version(r.clusterId) + 1;
        bumped.set(r.clusterId, v);
        let text = json.get(r.item);
        if (text === undefined) json.set(r.item, (text = JSON.stringify(r.item)));
        upsertItem.run(r.clusterId, r.itemId, r.broadcastId, v, r.removed ? 1 : 0, text, r.item.expiresAt);
      }
      for (const [clusterId, version] of bumped) upsertVersion.run(clusterId, version);
    })();
    for (const [clusterId, version] of bumped) this.versions.set(clusterId, { version, floor: this.versions.get(clusterId)?.floor ?? 0 });
    return bumped;
  }

  /**
   * Raises the cluster's version to at least `min` (persisted) and returns it. Whatever the server sends carries a
   * version it has stored, so an empty snapshot sent before the first item is version 1 and the first item version 2:
   * different contents never share a version, across restarts too.
   */
  private raise(clusterId: string, min: number): number {
    const cur = this.versions.get(clusterId);
    if (cur && cur.version >= min) return cur.version;
    this.statements().upsertVersion.run(clusterId, min);
    this.versions.set(clusterId, { version: min, floor: cur?.floor ?? 0 });
    return min;
  }

  /**
   * What a device holding `since` needs; a snapshot when `since` is unknown, ahead, or older than the tombstones.
   * A device already at the current version gets an empty delta with `baseVersion` = `version`: "you are current".
   */
  delta(clusterId: string, since: number): Manifest {
    this.settle();
    // A device ahead of the server (its store was lost or restored) gets a snapshot above what it holds.
    const ahead = since > this.version(clusterId);
    const version = this.raise(clusterId, ahead ? since + 1 : 1);
    const floor = this.versions.get(clusterId)!.floor;
    if (since === version) return { version, baseVersion: version, items: [], removed: [] };
    const now = this.clock.now();
    const snapshot = since <= 0 || ahead || since < floor;
    const rows = this.db
      .select()
      .from(manifestItems)
      .where(snapshot ? eq(manifestItems.clusterId, clusterId) : and(eq(manifestItems.clusterId, clusterId), gt(manifestItems.rev, since)))
      .all();
    const live = rows.filter((r) => !r.removed && r.expiresAt > now).slice(-MAX_DELTA_ITEMS);
    return {
      version,
      baseVersion: snapshot ? 0 : since,
      items: live.map((r) => r.item as PlayItem),
      removed: snapshot ? [] : rows.filter((r) => r.removed).map((r) => r.itemId).slice(-MAX_DELTA_ITEMS),
    };
  }

  /** Answers a birth or a `manifest/req`: always one publish — a delta, a snapshot, or "you are current". */
  async push(clusterId: string, since: number): Promise<void> {
    const m = this.delta(clusterId, since);
    this.sent.set(clusterId, m.version);
    await this.publisher.publish(deviceTopic(clusterId, 'manifest'), Buffer.from(JSON.stringify(m)), { qos: 1 });
  }

  /**
   * A cluster has just been granted a group's `play` topic. Group orders published before that missed it, and a
   * cluster a group covers gets no manifest push of its own (Delivery): a cluster that learnt its groups only from
   * the config answering its birth would hold at the birth's version, online, without the item (or with a cancelled
   * one). So it gets what changed since the last manifest sent to it, if anything did.
   */
  async catchUp(clusterId: string): Promise<void> {
    const last = this.sent.get(clusterId);
    if (last === undefined || this.version(clusterId) <= last) return;
    await this.push(clusterId, last);
  }

  /**
   * Whether an item still to air — not removed, not expired — has this content, in the manifest of `clusterId` or,
   * without one, of any cluster. A device may fetch only such content, and its file is kept while any item has it.
   */
  holdsContent(sha256: string, clusterId?: string): boolean {
    this.settle(); // an emergency's rows are written just after its group publish: a device may ask before that
    const where = [eq(manifestItems.removed, false), gt(manifestItems.expiresAt, this.clock.now()), sql`json_extract(${manifestItems.item}, '$.content.sha256') = ${sha256}`];
    if (clusterId !== undefined) where.push(eq(manifestItems.clusterId, clusterId));
    return this.db.select({ one: sql`1` }).from(manifestItems).where(and(...where)).limit(1).get() !== undefined;
  }

  /** Whether this cluster holds an item of this stream URL still to air (not removed, not expired): it may listen. */
  holdsStream(url: string, clusterId: string): boolean {
    this.settle();
    const where = [eq(manifestItems.clusterId, clusterId), eq(manifestItems.removed, false), gt(manifestItems.expiresAt, this.clock.now()), sql`json_extract(${manifestItems.item}, '$.stream.url') = ${url}`];
    return this.db.select({ one: sql`1` }).from(manifestItems).where(and(...where)).limit(1).get() !== undefined;
  }

  /** Forgets expired items and old tombstones; devices older than the pruned tombstones get a snapshot next time. */
  prune(graceMs = 3_600_000): number {
    this.settle();
    const cutoff = this.clock.now() - graceMs;
    const gone = this.db.delete(manifestItems).where(lt(manifestItems.expiresAt, cutoff)).run().changes;
    if (gone) {
      this.db.update(manifestVersions).set({ floor: sql`${manifestVersions.version}` }).run();
      for (const v of this.versions.values()) v.floor = v.version;
    }
    return gone;
  }
}
