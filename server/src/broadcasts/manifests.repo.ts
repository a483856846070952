import { and, eq, gt, lt, sql } from 'drizzle-orm';
import type { Statement } from 'better-sqlite3';
import type { PlayItem } from '../../../schemas/device-protocol/playback.ts';
import type { Db, Tx } from '../db/client.ts';
import type { manifestItems, manifestVersions } from '../db/schema.ts';

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
  private prepared: { upsertItem: Statement; bumpVersion: Statement<[string], { version: number }> } | null = null;

  constructor(private db: Db) {}

  /** On SQLite, statements prepared once; null on PostgreSQL (the builder's upserts instead). */
  private statements() {
    const c = this.db.sqlite;
    if (!c) return null;
    // Prepared once: a province's emergency writes a row per cluster (query building would cost ~100 µs a row).
    return (this.prepared ??= {
      upsertItem: c.prepare(
        `insert into manifest_items (cluster_id, item_id, broadcast_id, rev, removed, item, expires_at) values (?,?,?,?,?,?,?)
         on conflict (cluster_id, item_id) do update set rev = excluded.rev, removed = excluded.removed, item = excluded.item, expires_at = excluded.expires_at`,
      ),
      bumpVersion: c.prepare<[string], { version: number }>(
        'insert into manifest_versions (cluster_id, version) values (?, 1) on conflict (cluster_id) do update set version = version + 1 returning version',
      ),
    });
  }

  /** A cluster's version and floor, as stored (every instance reads the same). */
  async version(clusterId: string, tx?: Tx): Promise<{ version: number; floor: number } | null> {
    const { manifestVersions: mv } = this.db.t;
    const rows = await this.db.run(tx, (q) => q.select({ version: mv.version, floor: mv.floor }).from(mv).where(eq(mv.clusterId, clusterId)).limit(1));
    return rows[0] ?? null;
  }

  /**
   * Writes the changed items in one transaction, each at its cluster's next version, which the database assigns
   * (one more than the stored one): two instances changing one cluster's manifest never stamp the same version.
   * Returns each cluster's new version.
   */
  write(rows: Omit<ManifestChange, 'rev'>[], outer?: Tx): Promise<Map<string, number>> {
    const st = this.statements();
    const clusterIds = [...new Set(rows.map((r) => r.clusterId))];
    return this.db.transaction(async (tx) => {
      const versions = new Map<string, number>();
      if (st) {
        const { upsertItem, bumpVersion } = st;
        // One JSON text per distinct item: a fan-out puts the same item in every cluster's manifest.
        const json = new Map<PlayItem, string>();
        await this.db.run(tx, () => {
          for (const id of clusterIds) versions.set(id, bumpVersion.get(id)!.version);
          for (const c of rows) {
            let text = json.get(c.item);
            if (text === undefined) json.set(c.item, (text = JSON.stringify(c.item)));
            upsertItem.run(c.clusterId, c.itemId, c.broadcastId, versions.get(c.clusterId)!, c.removed ? 1 : 0, text, c.item.expiresAt);
          }
        });
        return versions;
      }
      const { manifestItems: mi, manifestVersions: mv } = this.db.t;
      for (let i = 0; i < clusterIds.length; i += 1000) {
        const batch = clusterIds.slice(i, i + 1000).map((clusterId) => ({ clusterId, version: 1 }));
        const bumped = await this.db.run(tx, (q) =>
          q.insert(mv).values(batch).onConflictDoUpdate({ target: mv.clusterId, set: { version: sql`${mv.version} + 1` } }).returning({ clusterId: mv.clusterId, version: mv.version }),
        );
        for (const b of bumped) versions.set(b.clusterId, b.version);
      }
      for (let i = 0; i < rows.length; i += 1000) {
        const batch = rows.slice(i, i + 1000).map((c) => ({ clusterId: c.clusterId, itemId: c.itemId, broadcastId: c.broadcastId, rev: versions.get(c.clusterId)!, removed: c.removed, item: c.item, expiresAt: c.item.expiresAt }));
        await this.db.run(tx, (q) =>
          q.insert(mi).values(batch).onConflictDoUpdate({
            target: [mi.clusterId, mi.itemId],
            set: { rev: sql`excluded.rev`, removed: sql`excluded.removed`, item: sql`excluded.item`, expiresAt: sql`excluded.expires_at` },
          }),
        );
      }
      return versions;
    }, outer);
  }

  /** Raises the cluster's version to at least `min`, atomically; returns the version and floor now stored. */
  async raise(clusterId: string, min: number, tx?: Tx): Promise<{ version: number; floor: number }> {
    const { manifestVersions: mv } = this.db.t;
    const larger = this.db.dialect === 'sqlite' ? sql`max(${mv.version}, excluded.version)` : sql`greatest(${mv.version}, excluded.version)`;
    const rows = await this.db.run(tx, (q) =>
      q.insert(mv).values({ clusterId, version: min }).onConflictDoUpdate({ target: mv.clusterId, set: { version: larger } }).returning({ version: mv.version, floor: mv.floor }),
    );
    return rows[0];
  }

  /** The items (not tombstones) of a broadcast, in every cluster's manifest. */
  itemsOfBroadcast(broadcastId: string, tx?: Tx): Promise<ManifestItemRow[]> {
    const { manifestItems } = this.db.t;
    return this.db.run(tx, (q) => q.select().from(manifestItems).where(and(eq(manifestItems.broadcastId, broadcastId), eq(manifestItems.removed, false))));
  }

  /** A cluster's items and tombstones: all of them, or those changed after revision `after`. */
  items(clusterId: string, after?: number, tx?: Tx): Promise<ManifestItemRow[]> {
    const { manifestItems } = this.db.t;
    const where = after === undefined ? eq(manifestItems.clusterId, clusterId) : and(eq(manifestItems.clusterId, clusterId), gt(manifestItems.rev, after));
    return this.db.run(tx, (q) => q.select().from(manifestItems).where(where));
  }

  /** `item` is JSON text on SQLite, jsonb on PostgreSQL. */
  private itemField(path: 'content.sha256' | 'stream.url') {
    const { manifestItems } = this.db.t;
    // literal paths, as the statements had them (never a user's text: `path` is one of two constants)
    const [a, b] = path.split('.');
    return this.db.dialect === 'sqlite' ? sql`json_extract(${manifestItems.item}, ${sql.raw(`'$.${path}'`)})` : sql`(${manifestItems.item}->${sql.raw(`'${a}'`)}->>${sql.raw(`'${b}'`)})`;
  }

  /** Whether an item not removed and not expired at `now` has this content, in one cluster's manifest or any. */
  async holdsContent(sha256: string, now: number, clusterId?: string, tx?: Tx): Promise<boolean> {
    const { manifestItems } = this.db.t;
    const where = [eq(manifestItems.removed, false), gt(manifestItems.expiresAt, now), sql`${this.itemField('content.sha256')} = ${sha256}`];
    if (clusterId !== undefined) where.push(eq(manifestItems.clusterId, clusterId));
    const rows = await this.db.run(tx, (q) => q.select({ one: sql`1` }).from(manifestItems).where(and(...where)).limit(1));
    return rows.length > 0;
  }

  /** Whether an item not removed and not expired at `now` of this cluster streams this URL. */
  async holdsStream(url: string, clusterId: string, now: number, tx?: Tx): Promise<boolean> {
    const { manifestItems } = this.db.t;
    const where = [eq(manifestItems.clusterId, clusterId), eq(manifestItems.removed, false), gt(manifestItems.expiresAt, now), sql`${this.itemField('stream.url')} = ${url}`];
    const rows = await this.db.run(tx, (q) => q.select({ one: sql`1` }).from(manifestItems).where(and(...where)).limit(1));
    return rows.length > 0;
  }

  /**
   * Deletes items (and tombstones) expired before `before`; when any went, every cluster's floor rises to its
   * version (older deltas are no longer possible). One transaction; returns how many items went.
   */
  prune(before: number, outer?: Tx): Promise<number> {
    const { manifestItems, manifestVersions } = this.db.t;
    return this.db.transaction(async (tx) => {
      const gone = (await this.db.run(tx, (q) => q.delete(manifestItems).where(lt(manifestItems.expiresAt, before)).returning({ id: manifestItems.itemId }))).length;
      if (gone) await this.db.run(tx, (q) => q.update(manifestVersions).set({ floor: sql`${manifestVersions.version}` }));
      return gone;
    }, outer);
  }
}
