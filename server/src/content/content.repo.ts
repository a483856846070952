import { and, desc, eq, inArray, isNotNull, lt, ne, notInArray } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { content } from '../db/schema.ts';

export type ContentRow = typeof content.$inferSelect;
export type NewContentRow = typeof content.$inferInsert;

const UNFINISHED = ['uploading', 'transcoding'];
/**
 * Rows the library no longer shows. A failed row is kept only until pruned, so that a client polling its upload
 * learns why it failed; a deleted row stays for good (broadcasts that aired it still refer to it) but is never served.
 */
const HIDDEN = ['failed', 'deleted'];

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
  /** The newest item made from this original that is in the library (not failed, not deleted). */
  findByOriginal(originalSha256: string): ContentRow | null {
    return (
      this.db.select().from(content)
        .where(and(eq(content.originalSha256, originalSha256), notInArray(content.state, HIDDEN)))
        .orderBy(desc(content.createdAt)).limit(1).get() ?? null
    );
  }
  /** Whether an item still in the library has this stored file. */
  hasLiveFile(sha256: string): boolean {
    return this.db.select({ id: content.id }).from(content).where(and(eq(content.sha256, sha256), ne(content.state, 'deleted'))).limit(1).get() !== undefined;
  }
  /** Stored-file hashes of deleted items (their files may still be kept for a manifest). */
  deletedFiles(): string[] {
    return this.db.selectDistinct({ sha256: content.sha256 }).from(content).where(and(eq(content.state, 'deleted'), isNotNull(content.sha256))).all().map((r) => r.sha256!);
  }
  list(limit: number, offset: number, source?: string): ContentRow[] {
    return this.db.select().from(content).where(this.listed(source))
      .orderBy(desc(content.createdAt), desc(content.id)).limit(limit).offset(offset).all();
  }
  /** Id and title of every listed item, newest first: what a search by title filters (see ContentService.list). */
  titles(source?: string): { id: string; title: string | null }[] {
    return this.db.select({ id: content.id, title: content.title }).from(content).where(this.listed(source))
      .orderBy(desc(content.createdAt), desc(content.id)).all();
  }
  byIds(ids: string[]): ContentRow[] {
    return ids.length ? this.db.select().from(content).where(inArray(content.id, ids)).all() : [];
  }
  private listed(source?: string) {
    return and(notInArray(content.state, HIDDEN), source ? eq(content.source, source) : undefined);
  }
  /** Marks every unfinished item failed; returns how many. */
  failUnfinished(error: string): number {
    return this.db.update(content).set({ state: 'failed', error }).where(inArray(content.state, UNFINISHED)).run().changes;
  }
  /** Removes a row for good (a failed item: nothing refers to it). */
  remove(id: string): void {
    this.db.delete(content).where(eq(content.id, id)).run();
  }
  /** Removes failed rows created before `before`; returns the originals they were made from. */
  removeFailed(before: number): (string | null)[] {
    return this.db.delete(content).where(and(eq(content.state, 'failed'), lt(content.createdAt, before))).returning({ o: content.originalSha256 }).all().map((r) => r.o);
  }
}
