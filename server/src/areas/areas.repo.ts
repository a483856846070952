import { eq } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { areas } from '../db/schema.ts';

export type AreaRow = typeof areas.$inferSelect;

export class AreasRepo {
  constructor(private db: Db) {}
  all(): AreaRow[] {
    return this.db.select().from(areas).all();
  }
  get(id: string): AreaRow | null {
    return this.db.select().from(areas).where(eq(areas.id, id)).get() ?? null;
  }
  insert(row: typeof areas.$inferInsert): void {
    this.db.insert(areas).values(row).run();
  }
  update(id: string, patch: Partial<typeof areas.$inferInsert>): void {
    this.db.update(areas).set(patch).where(eq(areas.id, id)).run();
  }
  delete(id: string): void {
    this.db.delete(areas).where(eq(areas.id, id)).run();
  }
}
