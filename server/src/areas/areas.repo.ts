import { eq } from 'drizzle-orm';
import { first, type Db, type Tx } from '../db/client.ts';
import type { areas } from '../db/schema.ts';

export type AreaRow = typeof areas.$inferSelect;

export class AreasRepo {
  constructor(private db: Db) {}
  all(tx?: Tx): Promise<AreaRow[]> {
    return this.db.run(tx, (q) => q.select().from(this.db.t.areas));
  }
  get(id: string, tx?: Tx): Promise<AreaRow | null> {
    const { areas } = this.db.t;
    return this.db.run(tx, (q) => q.select().from(areas).where(eq(areas.id, id)).limit(1)).then(first);
  }
  async insert(row: typeof areas.$inferInsert, tx?: Tx): Promise<void> {
    await this.db.run(tx, (q) => q.insert(this.db.t.areas).values(row));
  }
  async update(id: string, patch: Partial<typeof areas.$inferInsert>, tx?: Tx): Promise<void> {
    const { areas } = this.db.t;
    await this.db.run(tx, (q) => q.update(areas).set(patch).where(eq(areas.id, id)));
  }
  async delete(id: string, tx?: Tx): Promise<void> {
    const { areas } = this.db.t;
    await this.db.run(tx, (q) => q.delete(areas).where(eq(areas.id, id)));
  }
}
