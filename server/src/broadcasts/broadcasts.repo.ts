import { and, desc, eq, gte, inArray, isNull, lt, lte, max, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { inTransaction } from '../db/tx.ts';
import { broadcasts } from '../db/schema.ts';

export type BroadcastRow = typeof broadcasts.$inferSelect;

export class BroadcastsRepo {
  constructor(private db: Db) {}
  insert(row: typeof broadcasts.$inferInsert): void {
    this.db.insert(broadcasts).values(row).run();
  }
  get(id: string): BroadcastRow | null {
    return this.db.select().from(broadcasts).where(eq(broadcasts.id, id)).get() ?? null;
  }
  update(id: string, patch: Partial<typeof broadcasts.$inferInsert>): void {
    this.db.update(broadcasts).set(patch).where(eq(broadcasts.id, id)).run();
  }
  inStates(states: string[]): BroadcastRow[] {
    return this.db.select().from(broadcasts).where(inArray(broadcasts.state, states)).all();
  }
  /** Broadcasts in one of `states` that air this content item. */
  withContent(contentId: string, states: readonly string[]): BroadcastRow[] {
    return this.db.select().from(broadcasts).where(and(eq(broadcasts.contentId, contentId), inArray(broadcasts.state, [...states]))).all();
  }
  /** When a broadcast of each item last went on air (its start, or its creation when it started at once), on air or over. */
  lastAiredByContent(contentIds: string[]): Map<string, number> {
    if (!contentIds.length) return new Map();
    const at = max(sql<number>`coalesce(${broadcasts.startAt}, ${broadcasts.createdAt})`);
    const rows = this.db.select({ id: broadcasts.contentId, at }).from(broadcasts)
      .where(and(inArray(broadcasts.contentId, contentIds), inArray(broadcasts.state, ['airing', 'done']))).groupBy(broadcasts.contentId).all();
    return new Map(rows.map((r) => [r.id!, Number(r.at)]));
  }
  transaction<T>(fn: () => T): T {
    return inTransaction(this.db, fn);
  }
  /** Broadcasts in `states` starting within [from, to); `programmes` false: only those not made by the planner. */
  startingBetween(from: number, to: number, states: readonly string[], programmes: boolean): BroadcastRow[] {
    const w = [gte(broadcasts.startAt, from), lt(broadcasts.startAt, to), inArray(broadcasts.state, [...states])];
    if (!programmes) w.push(isNull(broadcasts.programmeId));
    return this.db.select().from(broadcasts).where(and(...w)).all();
  }
  /** Expired broadcasts that expired after `since`. */
  expiredSince(since: number): BroadcastRow[] {
    return this.db.select().from(broadcasts).where(and(eq(broadcasts.state, 'expired'), gte(broadcasts.expiresAt, since))).all();
  }
  list(q: { state?: string; level?: string; from?: number; to?: number }, limit: number, offset: number): BroadcastRow[] {
    const where: SQL[] = [];
    if (q.state) where.push(eq(broadcasts.state, q.state));
    if (q.level) where.push(eq(broadcasts.level, q.level));
    if (q.from !== undefined) where.push(gte(broadcasts.createdAt, q.from));
    if (q.to !== undefined) where.push(lte(broadcasts.createdAt, q.to));
    return this.db.select().from(broadcasts).where(where.length ? and(...where) : undefined).orderBy(desc(broadcasts.createdAt)).limit(limit).offset(offset).all();
  }
}
