import { and, desc, eq, inArray, isNotNull, lt, ne, notInArray } from 'drizzle-orm';
import { first, type Db, type Tx } from '../db/client.ts';
import type { content } from '../db/schema.ts';

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
  get(id: string, tx?: Tx): Promise<ContentRow | null> {
    const { content } = this.db.t;
    return this.db.run(tx, (q) => q.select().from(content).where(eq(content.id, id)).limit(1)).then(first);
  }
  async insert(row: NewContentRow, tx?: Tx): Promise<void> {
    const { content } = this.db.t;
    await this.db.run(tx, (q) => q.insert(content).values(row));
  }
  async update(id: string, patch: Partial<NewContentRow>, tx?: Tx): Promise<void> {
    const { content } = this.db.t;
    await this.db.run(tx, (q) => q.update(content).set(patch).where(eq(content.id, id)));
  }
  /** The newest item made from this original that is in the library (not failed, not deleted). */
  findByOriginal(originalSha256: string, tx?: Tx): Promise<ContentRow | null> {
    const { content } = this.db.t;
    return this.db.run(tx, (q) =>
      q.select().from(content)
        .where(and(eq(content.originalSha256, originalSha256), notInArray(content.state, HIDDEN)))
        .orderBy(desc(content.createdAt)).limit(1),
    ).then(first);
  }
  /** Whether an item still in the library has this stored file. */
  async hasLiveFile(sha256: string, tx?: Tx): Promise<boolean> {
    const { content } = this.db.t;
    const rows = await this.db.run(tx, (q) => q.select({ id: content.id }).from(content).where(and(eq(content.sha256, sha256), ne(content.state, 'deleted'))).limit(1));
    return rows.length > 0;
  }
  /** Stored-file hashes of deleted items (their files may still be kept for a manifest). */
  async deletedFiles(tx?: Tx): Promise<string[]> {
    const { content } = this.db.t;
    const rows = await this.db.run(tx, (q) => q.selectDistinct({ sha256: content.sha256 }).from(content).where(and(eq(content.state, 'deleted'), isNotNull(content.sha256))));
    return rows.map((r) => r.sha256!);
  }
  list(limit: number, offset: number, source?: string, tx?: Tx): Promise<ContentRow[]> {
    const { content } = this.db.t;
    return this.db.run(tx, (q) =>
      q.select().from(content).where(this.listed(source))
        .orderBy(desc(content.createdAt), desc(content.id)).limit(limit).offset(offset),
    );
  }
  /** Id and title of every listed item, newest first: what a search by title filters (see ContentService.list). */
  titles(source?: string, tx?: Tx): Promise<{ id: string; title: string | null }[]> {
    const { content } = this.db.t;
    return this.db.run(tx, (q) =>
      q.select({ id: content.id, title: content.title }).from(content).where(this.listed(source))
        .orderBy(desc(content.createdAt), desc(content.id)),
    );
  }
  async byIds(ids: string[], tx?: Tx): Promise<ContentRow[]> {
    if (!ids.length) return [];
    const { content } = this.db.t;
    return this.db.run(tx, (q) => q.select().from(content).where(inArray(content.id, ids)));
  }
  private listed(source?: string) {
    const { content } = this.db.t;
    return and(notInArray(content.state, HIDDEN), source ? eq(content.source, source) : undefined);
  }
  /** Marks every unfinished item failed; returns how many. */
  async failUnfinished(error: string, tx?: Tx): Promise<number> {
    const { content } = this.db.t;
    const rows = await this.db.run(tx, (q) => q.update(content).set({ state: 'failed', error }).where(inArray(content.state, UNFINISHED)).returning({ id: content.id }));
    return rows.length;
  }
  /** Removes a row for good (a failed item: nothing refers to it). */
  async remove(id: string, tx?: Tx): Promise<void> {
    const { content } = this.db.t;
    await this.db.run(tx, (q) => q.delete(content).where(eq(content.id, id)));
  }
  /** Removes failed rows created before `before`; returns the originals they were made from. */
  async removeFailed(before: number, tx?: Tx): Promise<(string | null)[]> {
    const { content } = this.db.t;
    const rows = await this.db.run(tx, (q) => q.delete(content).where(and(eq(content.state, 'failed'), lt(content.createdAt, before))).returning({ o: content.originalSha256 }));
    return rows.map((r) => r.o);
  }
}
