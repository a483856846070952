import { count, eq, inArray } from 'drizzle-orm';
import { first, type Db, type Tx } from '../db/client.ts';
import { inTransaction } from '../db/tx.ts';
import type { users } from '../db/schema.ts';

export type UserRow = typeof users.$inferSelect;
export type NewUserRow = typeof users.$inferInsert;

export class UsersRepo {
  constructor(private db: Db) {}

  /** Runs `fn` in one transaction (a user's checks and write, atomic together); inside `outer`, a savepoint of it. */
  transaction<T>(fn: (tx: Tx) => Promise<T>, outer?: Tx): Promise<T> {
    return inTransaction(this.db, fn, outer);
  }

  all(tx?: Tx): Promise<UserRow[]> {
    const { users } = this.db.t;
    return this.db.run(tx, (q) => q.select().from(users).orderBy(users.username));
  }
  get(id: string, tx?: Tx): Promise<UserRow | null> {
    const { users } = this.db.t;
    return this.db.run(tx, (q) => q.select().from(users).where(eq(users.id, id)).limit(1)).then(first);
  }
  byUsername(username: string, tx?: Tx): Promise<UserRow | null> {
    const { users } = this.db.t;
    return this.db.run(tx, (q) => q.select().from(users).where(eq(users.username, username)).limit(1)).then(first);
  }
  /** id → the name each user goes by (display name, else username). */
  async namesOf(ids: string[], tx?: Tx): Promise<Map<string, string>> {
    if (!ids.length) return new Map();
    const { users } = this.db.t;
    const rows = await this.db.run(tx, (q) => q.select({ id: users.id, username: users.username, displayName: users.displayName }).from(users).where(inArray(users.id, ids)));
    return new Map(rows.map((r) => [r.id, r.displayName || r.username]));
  }
  /** Admins in any state: while there are none, the server offers first-run setup. */
  async adminCount(tx?: Tx): Promise<number> {
    const { users } = this.db.t;
    const row = await this.db.run(tx, (q) => q.select({ n: count() }).from(users).where(eq(users.role, 'admin'))).then(first);
    return row?.n ?? 0;
  }

  async areasOf(userId: string, tx?: Tx): Promise<string[]> {
    const { userAreas } = this.db.t;
    const rows = await this.db.run(tx, (q) => q.select({ areaId: userAreas.areaId }).from(userAreas).where(eq(userAreas.userId, userId)));
    return rows.map((r) => r.areaId);
  }
  /** userId → assigned area ids, for listing many users in one query. */
  async allAreas(tx?: Tx): Promise<Map<string, string[]>> {
    const { userAreas } = this.db.t;
    const out = new Map<string, string[]>();
    for (const r of await this.db.run(tx, (q) => q.select().from(userAreas))) out.set(r.userId, [...(out.get(r.userId) ?? []), r.areaId]);
    return out;
  }

  /** The user and their areas in one transaction (a savepoint inside `outer`). */
  insert(row: NewUserRow, areaIds: string[], outer?: Tx): Promise<void> {
    const { users, userAreas } = this.db.t;
    return inTransaction(this.db, async (tx) => {
      await this.db.run(tx, (q) => q.insert(users).values(row));
      if (areaIds.length) await this.db.run(tx, (q) => q.insert(userAreas).values(areaIds.map((areaId) => ({ userId: row.id, areaId }))));
    }, outer);
  }
  /** The patch and, when given, the new set of areas, in one transaction (a savepoint inside `outer`). */
  update(id: string, patch: Partial<NewUserRow>, areaIds?: string[], outer?: Tx): Promise<void> {
    const { users, userAreas } = this.db.t;
    return inTransaction(this.db, async (tx) => {
      if (Object.keys(patch).length) await this.db.run(tx, (q) => q.update(users).set(patch).where(eq(users.id, id)));
      if (areaIds) {
        await this.db.run(tx, (q) => q.delete(userAreas).where(eq(userAreas.userId, id)));
        if (areaIds.length) await this.db.run(tx, (q) => q.insert(userAreas).values(areaIds.map((areaId) => ({ userId: id, areaId }))));
      }
    }, outer);
  }
  async delete(id: string, tx?: Tx): Promise<void> {
    const { users } = this.db.t;
    await this.db.run(tx, (q) => q.delete(users).where(eq(users.id, id)));
  }
}
