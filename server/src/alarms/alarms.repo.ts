import { and, desc, eq, isNotNull, isNull, or, sql, type SQL } from 'drizzle-orm';
import { first, type Db, type Tx } from '../db/client.ts';
import { inTransaction } from '../db/tx.ts';
import type { alarms } from '../db/schema.ts';

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

  get(id: string, tx?: Tx): Promise<AlarmRow | null> {
    const { alarms } = this.db.t;
    return this.db.run(tx, (q) => q.select().from(alarms).where(eq(alarms.id, id)).limit(1)).then(first);
  }

  /** Alarms not yet closed (active, or cleared but unacknowledged): at most one per type. Null id = every cluster. */
  open(clusterId: string | null = null, tx?: Tx): Promise<AlarmRow[]> {
    const { alarms } = this.db.t;
    const isOpen = or(isNull(alarms.clearedAt), isNull(alarms.ackedAt));
    return this.db.run(tx, (q) => q.select().from(alarms).where(clusterId ? and(eq(alarms.clusterId, clusterId), isOpen) : isOpen));
  }

  list(f: AlarmFilter, tx?: Tx): Promise<AlarmRow[]> {
    const { alarms } = this.db.t;
    const where: SQL[] = [];
    // One bound array rather than one variable per cluster: a province has more clusters than SQLite's limit.
    // SQLite takes it as JSON; PostgreSQL as a text[] parameter.
    if (f.clusterIds) {
      where.push(
        this.db.dialect === 'sqlite'
          ? sql`${alarms.clusterId} in (select value from json_each(${JSON.stringify(f.clusterIds)}))`
          : sql`${alarms.clusterId} = any(${sql.param(f.clusterIds)}::text[])`,
      );
    }
    if (f.active !== undefined) where.push(f.active ? isNull(alarms.clearedAt) : isNotNull(alarms.clearedAt));
    if (f.acknowledged !== undefined) where.push(f.acknowledged ? isNotNull(alarms.ackedAt) : isNull(alarms.ackedAt));
    return this.db.run(tx, (q) =>
      q
        .select()
        .from(alarms)
        .where(and(...where))
        .orderBy(desc(alarms.raisedAt), desc(alarms.id))
        .limit(f.limit)
        .offset(f.offset),
    );
  }

  async insert(row: typeof alarms.$inferInsert, tx?: Tx): Promise<void> {
    const { alarms } = this.db.t;
    await this.db.run(tx, (q) => q.insert(alarms).values(row));
  }

  async update(id: string, patch: AlarmPatch, tx?: Tx): Promise<void> {
    const { alarms } = this.db.t;
    await this.db.run(tx, (q) => q.update(alarms).set(patch).where(eq(alarms.id, id)));
  }

  /** Acknowledges only if nobody did yet; false when someone was first. */
  async acknowledge(id: string, ack: Required<Pick<AlarmRow, 'ackedBy' | 'ackedByName' | 'ackedAt' | 'ackNote'>>, tx?: Tx): Promise<boolean> {
    const { alarms } = this.db.t;
    const done = await this.db.run(tx, (q) => q.update(alarms).set(ack).where(and(eq(alarms.id, id), isNull(alarms.ackedAt))).returning({ id: alarms.id }));
    return done.length === 1;
  }

  /** Several changes as one: a cluster's faults are reconciled together. Every call inside must be given `tx`. */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return inTransaction(this.db, fn);
  }
}
