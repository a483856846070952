import { and, desc, eq, isNotNull, isNull, or, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { inTransaction } from '../db/tx.ts';
import { alarms } from '../db/schema.ts';

export type AlarmRow = typeof alarms.$inferSelect;
export type AlarmPatch = Partial<Omit<AlarmRow, 'id' | 'clusterId' | 'type'>>;

export interface AlarmFilter {
  /** null: every cluster; otherwise only these (may be empty) */
  clusterIds: string[] | null;
  active?: boolean;
  acknowledged?: boolean;
  limit: number;
  offset: number;
}

/** The alarms table; its only writer is AlarmsService. */
export class AlarmsRepo {
  constructor(private db: Db) {}

  get(id: string): AlarmRow | null {
    return this.db.select().from(alarms).where(eq(alarms.id, id)).get() ?? null;
  }

  /** Alarms not yet closed (active, or cleared but unacknowledged): at most one per type. Null id = every cluster. */
  open(clusterId: string | null = null): AlarmRow[] {
    const isOpen = or(isNull(alarms.clearedAt), isNull(alarms.ackedAt));
    return this.db.select().from(alarms).where(clusterId ? and(eq(alarms.clusterId, clusterId), isOpen) : isOpen).all();
  }

  list(f: AlarmFilter): AlarmRow[] {
    const where: SQL[] = [];
    // One bound JSON array rather than one variable per cluster: a province has more clusters than SQLite's limit.
    if (f.clusterIds) where.push(sql`${alarms.clusterId} in (select value from json_each(${JSON.stringify(f.clusterIds)}))`);
    if (f.active !== undefined) where.push(f.active ? isNull(alarms.clearedAt) : isNotNull(alarms.clearedAt));
    if (f.acknowledged !== undefined) where.push(f.acknowledged ? isNotNull(alarms.ackedAt) : isNull(alarms.ackedAt));
    return this.db
      .select()
      .from(alarms)
      .where(and(...where))
      .orderBy(desc(alarms.raisedAt), desc(alarms.id))
      .limit(f.limit)
      .offset(f.offset)
      .all();
  }

  insert(row: typeof alarms.$inferInsert): void {
    this.db.insert(alarms).values(row).run();
  }

  update(id: string, patch: AlarmPatch): void {
    this.db.update(alarms).set(patch).where(eq(alarms.id, id)).run();
  }

  /** Acknowledges only if nobody did yet; false when someone was first. */
  acknowledge(id: string, ack: Required<Pick<AlarmRow, 'ackedBy' | 'ackedByName' | 'ackedAt' | 'ackNote'>>): boolean {
    return this.db.update(alarms).set(ack).where(and(eq(alarms.id, id), isNull(alarms.ackedAt))).run().changes === 1;
  }

  /** Several changes as one: a cluster's faults are reconciled together. */
  transaction<T>(fn: () => T): T {
    return inTransaction(this.db, fn);
  }
}
