import { and, asc, count, eq } from 'drizzle-orm';
import { first, type Db, type Tx } from '../db/client.ts';
import type { ttsPronunciations } from '../db/schema.ts';

export type PronunciationRow = typeof ttsPronunciations.$inferSelect;

/** The per-commune reading list (table tts_pronunciations). */
export class PronunciationsRepo {
  constructor(private db: Db) {}
  list(communeId: string, tx?: Tx): Promise<PronunciationRow[]> {
    const { ttsPronunciations } = this.db.t;
    return this.db.run(tx, (q) => q.select().from(ttsPronunciations).where(eq(ttsPronunciations.communeId, communeId)).orderBy(asc(ttsPronunciations.written)));
  }
  get(id: string, tx?: Tx): Promise<PronunciationRow | null> {
    const { ttsPronunciations } = this.db.t;
    return this.db.run(tx, (q) => q.select().from(ttsPronunciations).where(eq(ttsPronunciations.id, id)).limit(1)).then(first);
  }
  byWritten(communeId: string, written: string, tx?: Tx): Promise<PronunciationRow | null> {
    const { ttsPronunciations } = this.db.t;
    return this.db.run(tx, (q) => q.select().from(ttsPronunciations).where(and(eq(ttsPronunciations.communeId, communeId), eq(ttsPronunciations.written, written))).limit(1)).then(first);
  }
  async count(communeId: string, tx?: Tx): Promise<number> {
    const { ttsPronunciations } = this.db.t;
    const row = await this.db.run(tx, (q) => q.select({ n: count() }).from(ttsPronunciations).where(eq(ttsPronunciations.communeId, communeId))).then(first);
    return row?.n ?? 0;
  }
  async insert(row: typeof ttsPronunciations.$inferInsert, tx?: Tx): Promise<void> {
    const { ttsPronunciations } = this.db.t;
    await this.db.run(tx, (q) => q.insert(ttsPronunciations).values(row));
  }
  async update(id: string, patch: Partial<Pick<PronunciationRow, 'written' | 'spoken' | 'updatedAt'>>, tx?: Tx): Promise<void> {
    const { ttsPronunciations } = this.db.t;
    await this.db.run(tx, (q) => q.update(ttsPronunciations).set(patch).where(eq(ttsPronunciations.id, id)));
  }
  async delete(id: string, tx?: Tx): Promise<void> {
    const { ttsPronunciations } = this.db.t;
    await this.db.run(tx, (q) => q.delete(ttsPronunciations).where(eq(ttsPronunciations.id, id)));
  }
}
