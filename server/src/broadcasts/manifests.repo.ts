import { and, eq, gt, lt, sql } from 'drizzle-orm';
import type { Statement } from 'better-sqlite3';
import type { PlayItem } from '../../../schemas/device-protocol/playback.ts';
import type { Db } from '../db/client.ts';
import { inTransaction } from '../db/tx.ts';
import { manifestItems, manifestVersions } from '../db/schema.ts';

export type ManifestItemRow = typeof manifestItems.$inferSelect;
export type ManifestVersionRow = typeof manifestVersions.$inferSelect;
/** An item added, replaced or removed (a tombstone) at revision `rev` of its cluster's manifest. */
export interface ManifestChange {
  clusterId: string;
  itemId: string;
  broadcastId: string;
  rev: number;
  removed: boolean;
  item: PlayItem;
}

/** Each cluster's manifest items and version: `manifest_items` and `manifest_versions` have no other writer. */
export class ManifestsRepo {
  private prepared: { upsertItem: Statement; upsertVersion: Statement } | null = null;

  constructor(private db: Db) {}

  private statements() {
    // Prepared once: a province's emergency writes a row per cluster (query building would cost ~100 µs a row).
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

  versions(): ManifestVersionRow[] {
    return this.db.select().from(manifestVersions).all();
  }

  /** Writes the changed items and the clusters' new versions in one transaction. */
  write(changes: ManifestChange[], versions: Map<string, number>): void {
    const { upsertItem, upsertVersion } = this.statements();
    // One JSON text per distinct item: a fan-out puts the same item in every cluster's manifest.
    const json = new Map<PlayItem, string>();
    inTransaction(this.db, () => {
      for (const c of changes) {
        let text = json.get(c.item);
        if (text === undefined) json.set(c.item, (text = JSON.stringify(c.item)));
        upsertItem.run(c.clusterId, c.itemId, c.broadcastId, c.rev, c.removed ? 1 : 0, text, c.item.expiresAt);
      }
      for (const [clusterId, version] of versions) upsertVersion.run(clusterId, version);
    });
  }

  setVersion(clusterId: string, version: number): void {
    this.statements().upsertVersion.run(clusterId, version);
  }

  /** The items (not tombstones) of a broadcast, in every cluster's manifest. */
  itemsOfBroadcast(broadcastId: string): ManifestItemRow[] {
    return this.db.select().from(manifestItems).where(and(eq(manifestItems.broadcastId, broadcastId), eq(manifestItems.removed, false))).all();
  }

  /** A cluster's items and tombstones: all of them, or those changed after revision `after`. */
  items(clusterId: string, after?: number): ManifestItemRow[] {
    const where = after === undefined ? eq(manifestItems.clusterId, clusterId) : and(eq(manifestItems.clusterId, clusterId), gt(manifestItems.rev, after));
    return this.db.select().from(manifestItems).where(where).all();
  }

  /** Whether an item not removed and not expired at `now` has this content, in one cluster's manifest or any. */
  holdsContent(sha256: string, now: number, clusterId?: string): boolean {
    const where = [eq(manifestItems.removed, false), gt(manifestItems.expiresAt, now), sql`json_extract(${manifestItems.item}, '$.content.sha256') = ${sha256}`];
    if (clusterId !== undefined) where.push(eq(manifestItems.clusterId, clusterId));
    return this.db.select({ one: sql`1` }).from(manifestItems).where(and(...where)).limit(1).get() !== undefined;
  }

  /** Whether an item not removed and not expired at `now` of this cluster streams this URL. */
  holdsStream(url: string, clusterId: string, now: number): boolean {
    const where = [eq(manifestItems.clusterId, clusterId), eq(manifestItems.removed, false), gt(manifestItems.expiresAt, now), sql`json_extract(${manifestItems.item}, '$.stream.url') = ${url}`];
    return this.db.select({ one: sql`1` }).from(manifestItems).where(and(...where)).limit(1).get() !== undefined;
  }

  /**
   * Deletes items (and tombstones) expired before `before`; when any went, every cluster's floor rises to its
   * version (older deltas are no longer possible). One transaction; returns how many items went.
   */
  prune(before: number): number {
    return inTransaction(this.db, () => {
      const gone = this.db.delete(manifestItems).where(lt(manifestItems.expiresAt, before)).run().changes;
      if (gone) this.db.update(manifestVersions).set({ floor: sql`${manifestVersions.version}` }).run();
      return gone;
    });
  }
}
