import { eq } from 'drizzle-orm';
import { first, type Db, type Tx } from '../db/client.ts';
import type { ttsCache } from '../db/schema.ts';

/** Synthesis key → content id. */
export class TtsCacheRepo {
  constructor(private db: Db) {}
  async get(key: string, tx?: Tx): Promise<string | null> {
    const { ttsCache } = this.db.t;
    const row = await this.db.run(tx, (q) => q.select({ contentId: ttsCache.contentId }).from(ttsCache).where(eq(ttsCache.key, key)).limit(1)).then(first);
    return row?.contentId ?? null;
  }
  async put(key: string, contentId: string, at: number, tx?: Tx): Promise<void> {
    const { ttsCache } = this.db.t;
    await this.db.run(tx, (q) => q.insert(ttsCache).values({ key, contentId, createdAt: at }).onConflictDoUpdate({ target: ttsCache.key, set: { contentId, createdAt: at } }));
  }
  async delete(key: string, tx?: Tx): Promise<void> {
    const { ttsCache } = this.db.t;
    await this.db.run(tx, (q) => q.delete(ttsCache).where(eq(ttsCache.key, key)));
  }
  /** Forgets every synthesis that produced this content item (it was deleted: the next request synthesises again); returns how many. */
  async deleteByContent(contentId: string, tx?: Tx): Promise<number> {
    const { ttsCache } = this.db.t;
    const rows = await this.db.run(tx, (q) => q.delete(ttsCache).where(eq(ttsCache.contentId, contentId)).returning({ key: ttsCache.key }));
    return rows.length;
  }
}
