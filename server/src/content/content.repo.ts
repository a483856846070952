import { and, desc, eq, inArray, ne } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { content } from '../db/schema.ts';

export type ContentRow = typeof content.$inferSelect;
export type NewContentRow = typeof content.$inferInsert;

const UNFINISHED = ['uploading', 'transcoding'];

export class ContentRepo {
  constructor(private db: Db) {}
  get(id: string): ContentRow | null {
    return this.db.select().from(content).where(eq(content.id, id)).get() ?? null;
  }
  insert(row: NewContentRow): void {
    this.db.insert(content).values(row).run();
  }
  update(id: string, patch: Partial<NewContentRow>): void {
    this.db.update(content).set(patch).where(eq(content.id, id)).run();
  }
  /** The newest item made from this original that has not failed. */
  findByOriginal(originalSha256: string): ContentRow | null {
    return (
      this.db.select().from(content)
        .where(and(eq(content.originalSha256, originalSha256), ne(content.state, 'failed')))
        .orderBy(desc(content.createdAt)).limit(1).get() ?? null
    );
  }
  list(limit: number, offset: number): ContentRow[] {
    return this.db.select().from(content).orderBy(desc(content.createdAt), desc(content.id)).limit(limit).offset(offset).all();
  }
  /** Marks every unfinished item failed; returns how many. */
  failUnfinished(error: string): number {
    return this.db.update(content).set({ state: 'failed', error }).where(inArray(content.state, UNFINISHED)).run().changes;
  }
}
