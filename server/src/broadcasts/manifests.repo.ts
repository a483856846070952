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
  private prepared: { upsertItem: Statement; upsertVersion: Statement } | null = null;

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
      upsertVersion: c.prepare(
        'insert into manifest_versions (cluster_id, version) values (?, ?) on conflict (cluster_id) do update set version = excluded.version',
      ),
    });
  }

  versions(tx?: Tx): Promise<ManifestVersionRow[]> {
    return this.db.run(tx, (q) => q.select().from(this.db.t.manifestVersions));
  }

  /** Writes the changed items and the clusters' new versions in one transaction. */
  write(changes: ManifestChange[], versions: Map<string, number>, outer?: Tx): Promise<void> {
    const st = this.statements();
    return this.db.transaction(async (tx) => {
      if (st) {
        const { upsertItem, upsertVersion } = st;
        // One JSON text per distinct item: a fan-out puts the same item in every cluster's manifest.
        const json = new Map<PlayItem, string>();
        await this.db.run(tx, () => {
          for (const c of changes) {
            let text = json.get(c.item);
            if (text === undefined) json.set(c.item, (text = JSON.stringify(c.item)));
            upsertItem.run(c.clusterId, c.itemId, c.broadcastId, c.rev, c.removed ? 1 : 0, text, c.item.expiresAt);
          }
          for (const [clusterId, version] of versions) upsertVersion.run(clusterId, version);
        });
        return;
      }
      const { manifestItems: mi, manifestVersions: mv } = this.db.t;
      for (let i = 0; i < changes.length; i += 1000) {
        const rows = changes.slice(i, i + 1000).map((c) => ({ clusterId: c.clusterId, itemId: c.itemId, broadcastId: c.broadcastId, rev: c.rev, removed: c.removed, item: c.item, expiresAt: c.item.expiresAt }));
        await this.db.run(tx, (q) =>
          q.insert(mi).values(rows).onConflictDoUpdate({
            target: [mi.clusterId, mi.itemId],
            set: { rev: sql`excluded.rev`, removed: sql`excluded.removed`, item: sql`excluded.item`, expiresAt: sql`excluded.expires_at` },
          }),
        );
      }
      const all = [...versions].map(([clusterId, version]) => ({ clusterId, version }));
      for (let i = 0; i < all.length; i += 1000) {
        const rows = all.slice(i, i + 1000);
        await this.db.run(tx, (q) => q.insert(mv).values(rows).onConflictDoUpdate({ target: mv.clusterId, set: { version: sql`excluded.version` } }));
      }
    }, outer);
  }

  async setVersion(clusterId: string, version: number, tx?: Tx): Promise<void> {
    const st = this.statements();
    if (st) {
      await this.db.run(tx, () => st.upsertVersion.run(clusterId, version));
      return;
    }
    const { manifestVersions: mv } = this.db.t;
    await this.db.run(tx, (q) => q.insert(mv).values({ clusterId, version }).onConflictDoUpdate({ target: mv.clusterId, set: { version } }));
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
