import { eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { inTransaction } from '../db/tx.ts';
import { userAreas, users } from '../db/schema.ts';

export type UserRow = typeof users.$inferSelect;
export type NewUserRow = typeof users.$inferInsert;

export class UsersRepo {
  constructor(private db: Db) {}

  all(): UserRow[] {
    return this.db.select().from(users).orderBy(users.username).all();
  }
  get(id: string): UserRow | null {
    return this.db.select().from(users).where(eq(users.id, id)).get() ?? null;
  }
  byUsername(username: string): UserRow | null {
    return this.db.select().from(users).where(eq(users.username, username)).get() ?? null;
  }
  /** id → the name each user goes by (display name, else username). */
  namesOf(ids: string[]): Map<string, string> {
    if (!ids.length) return new Map();
    const rows = this.db.select({ id: users.id, username: users.username, displayName: users.displayName }).from(users).where(inArray(users.id, ids)).all();
    return new Map(rows.map((r) => [r.id, r.displayName || r.username]));
  }
  /** Admins in any state: while there are none, the server offers first-run setup. */
  adminCount(): number {
    return this.db.select({ n: sql<number>`count(*)` }).from(users).where(eq(users.role, 'admin')).get()?.n ?? 0;
  }

  areasOf(userId: string): string[] {
    return this.db.select({ areaId: userAreas.areaId }).from(userAreas).where(eq(userAreas.userId, userId)).all().map((r) => r.areaId);
  }
  /** userId → assigned area ids, for listing many users in one query. */
  allAreas(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const r of this.db.select().from(userAreas).all()) out.set(r.userId, [...(out.get(r.userId) ?? []), r.areaId]);
    return out;
  }

  insert(row: NewUserRow, areaIds: string[]): void {
    inTransaction(this.db, () => {
      this.db.insert(users).values(row).run();
      if (areaIds.length) this.db.insert(userAreas).values(areaIds.map((areaId) => ({ userId: row.id, areaId }))).run();
    });
  }
  update(id: string, patch: Partial<NewUserRow>, areaIds?: string[]): void {
    inTransaction(this.db, () => {
      if (Object.keys(patch).length) this.db.update(users).set(patch).where(eq(users.id, id)).run();
      if (areaIds) {
        this.db.delete(userAreas).where(eq(userAreas.userId, id)).run();
        if (areaIds.length) this.db.insert(userAreas).values(areaIds.map((areaId) => ({ userId: id, areaId }))).run();
      }
    });
  }
  delete(id: string): void {
    this.db.delete(users).where(eq(users.id, id)).run();
  }
}
