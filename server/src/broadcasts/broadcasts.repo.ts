import { and, desc, eq, gte, inArray, isNull, lt, lte, max, sql, type SQL } from 'drizzle-orm';
import { first, type Db, type Tx } from '../db/client.ts';
import type { broadcasts } from '../db/schema.ts';

export type BroadcastRow = typeof broadcasts.$inferSelect;

export class BroadcastsRepo {
  constructor(private db: Db) {}
  async insert(row: typeof broadcasts.$inferInsert, tx?: Tx): Promise<void> {
    const { broadcasts } = this.db.t;
    await this.db.run(tx, (q) => q.insert(broadcasts).values(row));
  }
  get(id: string, tx?: Tx): Promise<BroadcastRow | null> {
    const { broadcasts } = this.db.t;
    return this.db.run(tx, (q) => q.select().from(broadcasts).where(eq(broadcasts.id, id)).limit(1)).then(first);
  }
  async update(id: string, patch: Partial<typeof broadcasts.$inferInsert>, tx?: Tx): Promise<void> {
    const { broadcasts } = this.db.t;
    await this.db.run(tx, (q) => q.update(broadcasts).set(patch).where(eq(broadcasts.id, id)));
  }
  /** Moves a broadcast from state `from` to `to`; false when it was no longer in `from`. */
  async moveState(id: string, from: string, to: string, tx?: Tx): Promise<boolean> {
    const { broadcasts } = this.db.t;
    const rows = await this.db.run(tx, (q) => q.update(broadcasts).set({ state: to }).where(and(eq(broadcasts.id, id), eq(broadcasts.state, from))).returning({ id: broadcasts.id }));
    return rows.length > 0;
  }
  inStates(states: string[], tx?: Tx): Promise<BroadcastRow[]> {
    const { broadcasts } = this.db.t;
    return this.db.run(tx, (q) => q.select().from(broadcasts).where(inArray(broadcasts.state, states)));
  }
  /** Broadcasts in one of `states` that air this content item. */
  withContent(contentId: string, states: readonly string[], tx?: Tx): Promise<BroadcastRow[]> {
    const { broadcasts } = this.db.t;
    return this.db.run(tx, (q) => q.select().from(broadcasts).where(and(eq(broadcasts.contentId, contentId), inArray(broadcasts.state, [...states]))));
  }
  /** When a broadcast of each item last went on air (its start, or its creation when it started at once), on air or over. */
  async lastAiredByContent(contentIds: string[], tx?: Tx): Promise<Map<string, number>> {
    if (!contentIds.length) return new Map();
    const { broadcasts } = this.db.t;
    const at = max(sql<number>`coalesce(${broadcasts.startAt}, ${broadcasts.createdAt})`);
    const rows = await this.db.run(tx, (q) =>
      q.select({ id: broadcasts.contentId, at }).from(broadcasts)
        .where(and(inArray(broadcasts.contentId, contentIds), inArray(broadcasts.state, ['airing', 'done']))).groupBy(broadcasts.contentId),
    );
    return new Map(rows.map((r) => [r.id!, Number(r.at)]));
  }
  transaction<T>(fn: (tx: Tx) => Promise<T>, outer?: Tx): Promise<T> {
    return this.db.transaction(fn, outer);
  }
  /** Broadcasts in `states` starting within [from, to); `programmes` false: only those not made by the planner. */
  startingBetween(from: number, to: number, states: readonly string[], programmes: boolean, tx?: Tx): Promise<BroadcastRow[]> {
    const { broadcasts } = this.db.t;
    const w = [gte(broadcasts.startAt, from), lt(broadcasts.startAt, to), inArray(broadcasts.state, [...states])];
    if (!programmes) w.push(isNull(broadcasts.programmeId));
    return this.db.run(tx, (q) => q.select().from(broadcasts).where(and(...w)));
  }
  /** Expired broadcasts that expired after `since`. */
  expiredSince(since: number, tx?: Tx): Promise<BroadcastRow[]> {
    const { broadcasts } = this.db.t;
    return this.db.run(tx, (q) => q.select().from(broadcasts).where(and(eq(broadcasts.state, 'expired'), gte(broadcasts.expiresAt, since))));
  }
  list(f: { state?: string; level?: string; from?: number; to?: number }, limit: number, offset: number, tx?: Tx): Promise<BroadcastRow[]> {
    const { broadcasts } = this.db.t;
    const where: SQL[] = [];
    if (f.state) where.push(eq(broadcasts.state, f.state));
    if (f.level) where.push(eq(broadcasts.level, f.level));
    if (f.from !== undefined) where.push(gte(broadcasts.createdAt, f.from));
    if (f.to !== undefined) where.push(lte(broadcasts.createdAt, f.to));
    return this.db.run(tx, (q) => q.select().from(broadcasts).where(where.length ? and(...where) : undefined).orderBy(desc(broadcasts.createdAt)).limit(limit).offset(offset));
  }
}
