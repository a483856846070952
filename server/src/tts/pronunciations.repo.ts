import { and, asc, count, eq } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { ttsPronunciations } from '../db/schema.ts';

export type PronunciationRow = typeof ttsPronunciations.$inferSelect;

/** The per-commune reading list (table tts_pronunciations). */
export class PronunciationsRepo {
  constructor(private db: Db) {}
  list(communeId: string): PronunciationRow[] {
    return this.db.select().from(ttsPronunciations).where(eq(ttsPronunciations.communeId, communeId)).orderBy(asc(ttsPronunciations.written)).all();
  }
  get(id: string): PronunciationRow | null {
    return this.db.select().from(ttsPronunciations).where(eq(ttsPronunciations.id, id)).get() ?? null;
  }
  byWritten(communeId: string, written: string): PronunciationRow | null {
    return this.db.select().from(ttsPronunciations).where(and(eq(ttsPronunciations.communeId, communeId), eq(ttsPronunciations.written, written))).get() ?? null;
  }
  count(communeId: string): number {
    return this.db.select({ n: count() }).from(ttsPronunciations).where(eq(ttsPronunciations.communeId, communeId)).get()?.n ?? 0;
  }
  insert(row: typeof ttsPronunciations.$inferInsert): void {
    this.db.insert(ttsPronunciations).values(row).run();
  }
  update(id: string, patch: Partial<Pick<PronunciationRow, 'written' | 'spoken' | 'updatedAt'>>): void {
    this.db.update(ttsPronunciations).set(patch).where(eq(ttsPronunciations.id, id)).run();
  }
  delete(id: string): void {
    this.db.delete(ttsPronunciations).where(eq(ttsPronunciations.id, id)).run();
  }
}
