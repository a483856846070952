import { eq } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { ttsCache } from '../db/schema.ts';

/** Synthesis key → content id. */
export class TtsCacheRepo {
  constructor(private db: Db) {}
  get(key: string): string | null {
    return this.db.select({ contentId: ttsCache.contentId }).from(ttsCache).where(eq(ttsCache.key, key)).get()?.contentId ?? null;
  }
  put(key: string, contentId: string, at: number): void {
    this.db.insert(ttsCache).values({ key, contentId, createdAt: at }).onConflictDoUpdate({ target: ttsCache.key, set: { contentId, createdAt: at } }).run();
  }
  delete(key: string): void {
    this.db.delete(ttsCache).where(eq(ttsCache.key, key)).run();
  }
  /** Forgets every synthesis that produced this content item (it was deleted: the next request synthesises again). */
  deleteByContent(contentId: string): number {
    return this.db.delete(ttsCache).where(eq(ttsCache.contentId, contentId)).run().changes;
  }
}
